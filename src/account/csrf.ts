// CSRF for the portal's forms: a random secret in the (server-side) portal session, and per form a MAC
// of the form's name under it. SameSite=Lax already keeps the cookie off cross-site POSTs; the token makes
// that explicit and also covers same-site attackers (another app on a sibling host).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PortalState } from './session.ts';

export const newCsrfSecret = () => randomBytes(32).toString('base64url');

const mac = (secret: string, form: string) => createHmac('sha256', secret).update(`account:${form}`).digest('base64url');

export function csrfToken(s: PortalState, form: string): string {
  if (!s.csrf) throw new Error('GW_ERR_ACCOUNT_CSRF: no CSRF secret in a signed-in portal session');
  return mac(s.csrf, form);
}

export function csrfValid(s: PortalState, form: string, given: unknown): boolean {
  if (!s.csrf || typeof given !== 'string' || given.length > 200) return false;
  const want = Buffer.from(mac(s.csrf, form));
  const got = Buffer.from(given);
  return want.length === got.length && timingSafeEqual(want, got);
}
