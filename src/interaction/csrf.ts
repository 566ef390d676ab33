// CSRF tokens for the interaction forms: a MAC of the interaction uid under the master secret.
// The uid is itself bound to the browser by oidc-provider's interaction cookie (SameSite=Lax, path-scoped),
// so a cross-site form can neither know the uid nor carry the cookie; the token makes that explicit.
import type { SecretBox } from '../platform/secret-box.ts';

export function createCsrf(box: SecretBox) {
  return {
    token: (uid: string, form: string) => box.mac('csrf', `${uid}:${form}`),
    verify: (uid: string, form: string, given: unknown) =>
      typeof given === 'string' && given.length < 200 && box.verifyMac('csrf', `${uid}:${form}`, given),
  };
}
export type Csrf = ReturnType<typeof createCsrf>;
