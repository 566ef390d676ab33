// A form posted to an interaction that no longer exists starts the sign-in again instead of ending on the
// "expired" page: the forms that end an interaction (login, the code forms, consent's "Allow", enrollment's
// last "continue"; not "Cancel") carry their authorization request (its parameters, as
// oidc-provider keeps them with the interaction), and such a POST answers 303 to the authorization
// endpoint with them, where oidc-provider checks them all again. The cases:
//  - a double-submitted form: the first submission signed in and resumed the authorization in-process (the
//    interaction ended with it, resume-in-process.ts) but the browser dropped its answer for the second's.
//    The browser holds the new session if it kept the first answer's cookies, and single sign-on answers
//    with a fresh code at once; else it sees the login form again;
//  - a form left open past the interaction's lifetime, or posted from another browser: the login form of a
//    new interaction (as Keycloak starts a timed-out login again).
// The target is always this gateway's own authorization endpoint, so the field can send the browser
// nowhere a link could not; and only a form whose CSRF token is valid for the interaction's uid (a form
// this gateway rendered) is restarted.
import { OIDC_PREFIX } from '../protocols/oidc/provider.ts';

export const RESTART_FIELD = 'restart';
const AUTH_PATH = `${OIDC_PREFIX}/auth`;

/** The authorization request an interaction was started by, as a path with its query. */
export function restartTarget(params: Record<string, unknown>): string {
  const q = new URLSearchParams();
  const add = (k: string, v: unknown) => {
    if (typeof v === 'string') q.append(k, v);
    else if (typeof v === 'number' || typeof v === 'boolean') q.append(k, String(v));
  };
  // A parameter given more than once (resource) comes as an array.
  for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) add(k, one);
  return `${AUTH_PATH}?${q}`;
}

/** The form's restart target if it is one (this gateway's authorization endpoint with a query), else undefined. */
export function restartFrom(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 8192 || !value.startsWith(`${AUTH_PATH}?`)) return undefined;
  // Parsed against a fixed origin: a path that resolves anywhere else (backslashes, dot segments,
  // control characters) is not taken.
  let u: URL;
  try { u = new URL(value, 'http://gatehouse.invalid'); } catch { return undefined; }
  if (u.origin !== 'http://gatehouse.invalid' || u.pathname !== AUTH_PATH || u.hash) return undefined;
  return `${u.pathname}${u.search}`;
}
