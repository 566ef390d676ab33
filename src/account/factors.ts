// The user's second factors as the portal shows them, and the last-factor rule: while MFA is required
// for the user, removing a factor must leave another one, or the next sign-in could not complete
// (or, worse, would let whoever holds the password enroll a new factor).
import type { Config } from '../config/schema.ts';
import type { MfaServices } from '../mfa/registry.ts';
import type { User } from '../users/users.ts';

export interface FactorOverview {
  /** TOTP is an enabled factor, and whether this user has a confirmed seed. */
  totp: { enabled: boolean; enrolled: boolean };
  /** Duo is enabled: enrollment lives at Duo, managed by the organisation. */
  duo: boolean;
  recoveryRemaining: number;
  /** The factor used last (pre-selected at sign-in), with its label. */
  preferred?: { id: string; label: string };
}

export async function factorOverview(config: Config, mfa: MfaServices, user: User): Promise<FactorOverview> {
  const preferred = user.preferredFactor ? mfa.byId(user.preferredFactor) : undefined;
  return {
    totp: { enabled: config.mfa.factors.includes('totp'), enrolled: await mfa.totp.isEnrolled(user.id) },
    duo: config.mfa.factors.includes('duo'),
    recoveryRemaining: await mfa.recovery.remaining(user.id),
    ...(preferred ? { preferred: { id: preferred.id, label: preferred.label } } : {}),
  };
}

/**
 * Whether a second factor is required for the user: some application they may sign in to (or the portal
 * itself) has the policy `required`. Policies are per application, not per user, so any one counts.
 */
export function mfaRequired(config: Config): boolean {
  return config.account.mfa === 'required'
    || config.oidc.clients.some((c) => c.mfa === 'required')
    || config.saml.sps.some((sp) => sp.mfa === 'required');
}

/** Usable factors other than TOTP; recovery codes are a backup of TOTP and go with it. */
const othersThanTotp = (f: FactorOverview) => (f.duo ? 1 : 0);

/** The last-factor rule for removing the authenticator app. */
export function mayRemoveTotp(config: Config, f: FactorOverview): boolean {
  return !mfaRequired(config) || othersThanTotp(f) > 0;
}
