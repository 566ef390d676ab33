// Scope → claims, and the account lookup oidc-provider calls for ID tokens, userinfo and refresh.
import type { Account, FindAccount } from 'oidc-provider';
import type { Users } from '../../users/users.ts';

export const CLAIMS = {
  // Standalone claims (no scope): always allowed. amr/acr come from mfa/amr.ts through the session.
  acr: null, amr: null, auth_time: null, sid: null,
  openid: ['sub', 'acr', 'amr', 'auth_time', 'sid'],
  profile: ['name', 'preferred_username'],
  email: ['email', 'email_verified'],
  groups: ['groups'],
} as const;

export function createFindAccount(users: Users): FindAccount {
  return async (_ctx, sub): Promise<Account | undefined> => {
    const u = await users.findAccount(sub);
    // A disabled user can no longer refresh tokens or read userinfo.
    if (!u || u.disabled) return undefined;
    return {
      accountId: u.id,
      async claims() {
        return {
          sub: u.id,
          preferred_username: u.username,
          ...(u.name ? { name: u.name } : {}),
          ...(u.email ? { email: u.email, email_verified: u.emailVerified } : {}),
          groups: u.groups,
        };
      },
    };
  };
}
