// The demo user: a known password, an authenticator-app (TOTP) seed and fresh recovery codes, printed by
// demo/main.ts. The seed survives restarts (it is read back from the database); recovery codes are
// stored hashed, so new ones are made at every start.
import type { Services } from '../src/services.ts';
import { generateSecret, otpauthUri } from '../src/mfa/totp/totp-code.ts';

export const DEMO_USER = { username: 'alice', password: 'correct horse battery staple', name: 'Alice Example', email: 'alice@example.com' };

export interface SeededUser { id: string; username: string; password: string; totpSecret: string; otpauth: string; recoveryCodes: string[]; created: boolean }

export async function seedDemoUser(s: Services, u = DEMO_USER): Promise<SeededUser> {
  let user = await s.users.findByUsername(u.username);
  const created = !user;
  const hash = await s.passwords.hash(u.password);
  if (!user) {
    user = await s.users.add({ username: u.username, name: u.name, email: u.email, emailVerified: true, groups: ['staff', 'demo'] }, hash);
  } else {
    // A changed password (the portal demo) is put back, so what the banner prints is always true.
    await s.users.setPassword(user.id, hash);
    if (user.disabled) await s.users.setDisabled(user.id, false);
    await s.throttle.unlock(u.username);
  }
  const existing = await s.mfa.totp.find(user.id);
  const totpSecret = existing?.confirmed ? existing.secret : generateSecret();
  if (!existing?.confirmed) await s.mfa.totp.importConfirmed(user.id, totpSecret);
  const recoveryCodes = await s.mfa.recovery.regenerate(user.id);
  return {
    id: user.id, username: u.username, password: u.password, totpSecret, recoveryCodes, created,
    otpauth: otpauthUri(totpSecret, s.config.mfa.totp.issuer, u.username),
  };
}
