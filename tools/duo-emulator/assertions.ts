// Verification of the JWTs the SDK sends: the client assertion used on
// health_check and token (checks A1–A9 of protocol doc §12.3) and the
// `request` object of /oauth/v1/authorize (R1–R11).
//
// jose is used only for the signature (compactVerify); every claim check is
// done by hand against the emulator's (offsettable) clock, because Duo's rules
// differ from jose's defaults: zero leeway on nbf, exp capped at now + 1 h,
// numeric strings accepted (the C# SDK sends them).
import { compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import type { EmulatorApp } from './types.ts';

export type CheckResult<T> = ({ ok: true } & T) | { ok: false; check: string; detail: string };

/** Client JWTs may not expire more than an hour ahead (java#65). */
const MAX_LIFETIME = 3600;
/**
 * Tolerated future `iat`. Duo's value is unverified; the SDK rounds `iat` (up
 * to 0.5 s ahead), and 60 s mirrors the SDK's own leeway. A client clock that
 * runs 400 s fast must still fail, as it does against real Duo.
 */
const IAT_FUTURE_LEEWAY = 60;

const fail = (check: string, detail: string) => ({ ok: false as const, check, detail });

/** Number, or numeric string (C# serialises every claim as a string). */
function numericClaim(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v)) return Number(v);
  return undefined;
}

function audienceMatches(aud: unknown, accepted: string[]): boolean {
  const list = Array.isArray(aud) ? aud : [aud];
  return list.some((a) => typeof a === 'string' && accepted.includes(a));
}

/** A1 (alg) + A2 (signature) for any HS512 JWT; returns the verified claims. */
async function verifyHs512(
  jwt: string,
  secret: string,
  check: string,
): Promise<CheckResult<{ claims: Record<string, unknown> }>> {
  try {
    const { payload } = await compactVerify(jwt, new TextEncoder().encode(secret), { algorithms: ['HS512'] });
    const claims: unknown = JSON.parse(new TextDecoder().decode(payload));
    if (!claims || typeof claims !== 'object' || Array.isArray(claims)) return fail(check, 'payload is not an object');
    return { ok: true, claims: claims as Record<string, unknown> };
  } catch (err) {
    return fail(check, `signature: ${(err as Error).message}`);
  }
}

/** Shared exp/nbf rules (A6/A7, R7). */
function checkTimes(claims: Record<string, unknown>, now: number, check: string): CheckResult<{ exp: number }> {
  const exp = numericClaim(claims.exp);
  if (exp === undefined) return fail(check, 'exp missing or not numeric');
  if (exp <= now) return fail(check, 'exp in the past');
  if (exp > now + MAX_LIFETIME) return fail(check, 'exp more than 3600 s ahead');
  if (claims.nbf !== undefined) {
    const nbf = numericClaim(claims.nbf);
    if (nbf === undefined) return fail(check, 'nbf not numeric');
    if (nbf > now) return fail(check, 'nbf in the future (no leeway)');
  }
  return { ok: true, exp };
}

/** Remembers assertion `jti`s until their `exp` (A9). */
export class JtiCache {
  #seen = new Map<string, number>();

  /** Records the jti; returns false if it was already used. */
  use(clientId: string, jti: string, exp: number, now: number): boolean {
    for (const [k, e] of this.#seen) if (e < now) this.#seen.delete(k);
    const key = `${clientId}\u0000${jti}`;
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, exp);
    return true;
  }

  clear(): void {
    this.#seen.clear();
  }
}

export interface AssertionInput {
  assertion: string | null;
  /** Form client_id; when absent (java style) the `iss` claim picks the app. */
  clientIdParam: string | null;
  /** Exact expected `aud`: https://{apiHost}/oauth/v1/{health_check|token}. */
  audience: string;
  now: number;
  findApp: (clientId: string) => EmulatorApp | undefined;
  jtis: JtiCache | null;
}

/** A1–A9. `issMismatch` lets the token endpoint use Duo's specific error text. */
export async function verifyClientAssertion(
  input: AssertionInput,
): Promise<CheckResult<{ clientId: string }> & { issMismatch?: boolean }> {
  const { assertion, now } = input;
  if (!assertion) return fail('A1', 'client_assertion missing');
  if (assertion.split('.').length !== 3) return fail('A1', 'not a compact JWS');
  let unverifiedIss: unknown;
  try {
    const header = decodeProtectedHeader(assertion);
    if (header.alg !== 'HS512') return fail('A1', `alg ${String(header.alg)} not allowed`);
    unverifiedIss = decodeJwt(assertion).iss;
  } catch (err) {
    return fail('A1', `unparsable: ${(err as Error).message}`);
  }

  const clientId = input.clientIdParam ?? (typeof unverifiedIss === 'string' ? unverifiedIss : '');
  const app = input.findApp(clientId);
  if (!app) return fail('A2', 'unknown client_id');
  const verified = await verifyHs512(assertion, app.clientSecret, 'A2');
  if (!verified.ok) return verified;
  const { claims } = verified;

  if (claims.iss !== clientId) return { ...fail('A3', 'iss != client_id'), issMismatch: true };
  if (claims.sub !== clientId) return fail('A4', 'sub != client_id');
  if (!audienceMatches(claims.aud, [input.audience])) return fail('A5', `aud is not ${input.audience}`);
  const times = checkTimes(claims, now, 'A6/A7');
  if (!times.ok) return times;
  if (claims.iat !== undefined) {
    const iat = numericClaim(claims.iat);
    if (iat === undefined) return fail('A8', 'iat not numeric');
    if (iat > now + IAT_FUTURE_LEEWAY) return fail('A8', 'iat in the future');
  }
  if (typeof claims.jti !== 'string' || claims.jti === '') return fail('A9', 'jti missing');
  // Record the jti last, so a rejected assertion does not burn its jti.
  if (input.jtis && !input.jtis.use(clientId, claims.jti, times.exp, now)) return fail('A9', 'jti replayed');
  return { ok: true, clientId };
}

export interface AuthorizeRequest {
  app: EmulatorApp;
  redirectUri: string;
  state: string;
  duoUname: string;
  nonce?: string;
  /** true → callback uses `duo_code=`, false → `code=` (R10). */
  useDuoCode: boolean;
  /** Set when the query redirect_uri differs from the (authoritative) JWT one. */
  warning?: string;
}

/** R4: also what ends up in a Location header, so printable ASCII only. */
function redirectUriProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || uri.length < 1 || uri.length > 256) return 'redirect_uri must be 1-256 chars';
  if (!/^[\x21-\x7e]+$/.test(uri)) return 'redirect_uri has spaces, controls or non-ASCII';
  if (uri.includes('#')) return 'redirect_uri must not have a fragment';
  if (!URL.canParse(uri)) return 'redirect_uri is not an absolute URL';
  return undefined;
}

/** R1–R11 on GET /oauth/v1/authorize. `issuerBase` is https://{apiHost}. */
export async function verifyAuthorizeRequest(
  query: URLSearchParams,
  now: number,
  issuerBase: string,
  findApp: (clientId: string) => EmulatorApp | undefined,
): Promise<CheckResult<{ request: AuthorizeRequest }>> {
  const clientId = query.get('client_id') ?? '';
  const jwt = query.get('request');
  if (query.get('response_type') !== 'code') return fail('R1', 'response_type must be code');
  const app = findApp(clientId);
  if (!app) return fail('R1', 'unknown client_id');
  if (!jwt) return fail('R1', 'request missing');

  const verified = await verifyHs512(jwt, app.clientSecret, 'R2');
  if (!verified.ok) return verified;
  const c = verified.claims;

  if (c.client_id !== clientId) return fail('R3', 'client_id claim != query client_id');
  if (c.response_type !== 'code') return fail('R3', 'response_type claim must be code');
  if (typeof c.scope !== 'string' || !c.scope.split(' ').includes('openid')) return fail('R3', 'scope lacks openid');
  const uriProblem = redirectUriProblem(c.redirect_uri);
  if (uriProblem) return fail('R4', uriProblem);
  if (typeof c.state !== 'string' || c.state.length < 16 || c.state.length > 1024)
    return fail('R5', 'state must be 16-1024 chars');
  if (typeof c.duo_uname !== 'string' || c.duo_uname === '') return fail('R6', 'duo_uname missing');
  const times = checkTimes(c, now, 'R7');
  if (!times.ok) return times;
  if (c.iss !== undefined && c.iss !== clientId) return fail('R8', 'iss != client_id');
  if (c.aud !== undefined && !audienceMatches(c.aud, [issuerBase, `${issuerBase}/oauth/v1/authorize`]))
    return fail('R9', `aud is not ${issuerBase}`);
  const nonce = c.nonce ?? query.get('nonce') ?? undefined;
  if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length < 16 || nonce.length > 1024))
    return fail('R11', 'nonce must be 16-1024 chars');

  const redirectUri = c.redirect_uri as string;
  const queryUri = query.get('redirect_uri');
  return {
    ok: true,
    request: {
      app,
      redirectUri,
      state: c.state,
      duoUname: c.duo_uname,
      ...(nonce !== undefined ? { nonce } : {}),
      useDuoCode: c.use_duo_code_attribute === true || c.use_duo_code_attribute === 'true',
      ...(queryUri !== null && queryUri !== redirectUri
        ? { warning: 'query redirect_uri differs from the request object (JWT value used)' }
        : {}),
    },
  };
}
