// The id_token the emulator issues at /oauth/v1/token (protocol doc §6, §12.3,
// §12.5). It must pass the SDK's verification exactly as a real one does:
// HS512 with the client secret's UTF-8 bytes, iss = https://{apiHost}/oauth/v1/token,
// aud = client id, exp/iat present, preferred_username = duo_uname as sent.
// Values Duo does not document (deny/fraud texts, bypass factor) are marked.
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

/** What the user "did": decided at authorize time or by the prompt buttons. */
export type Decision = 'allow' | 'deny' | 'fraud' | 'bypass';

export interface AuthRecord {
  clientId: string;
  duoUname: string;
  nonce?: string;
  decision: Decision;
  /** auth_context.factor, e.g. duo_push, passcode, phone_call. */
  factor: string;
  /** Emulator-clock seconds at which the decision was made. */
  authTime: number;
  /** Browser address seen at authorize (auth_context.access_device.ip). */
  accessIp: string | null;
}

export const ID_TOKEN_TTL = 300;

/** Factors whose success reason is a passcode check rather than an approval. */
const PASSCODE_FACTORS = new Set(['passcode', 'sms_passcode', 'hardware_token', 'yubikey_code', 'bypass_code']);

/**
 * Per-decision auth_result / auth_context values. `allow` is the DevNet sample;
 * the others are [UNVERIFIED] best guesses from Duo auth-log vocabulary.
 */
function verdict(decision: Decision, factor: string) {
  switch (decision) {
    case 'allow':
      return {
        auth_result: { result: 'allow', status: 'allow', status_msg: 'Login Successful' },
        reason: PASSCODE_FACTORS.has(factor) ? 'valid_passcode' : 'user_approved',
        result: 'success',
      };
    case 'bypass':
      // Bypass users are let through without a prompt; status stays 'allow'.
      return {
        auth_result: { result: 'allow', status: 'allow', status_msg: 'Login Successful' },
        reason: 'bypass_user',
        result: 'success',
      };
    case 'deny':
      return {
        auth_result: { result: 'deny', status: 'deny', status_msg: 'Login denied' },
        reason: 'user_cancelled',
        result: 'denied',
      };
    case 'fraud':
      return {
        auth_result: { result: 'deny', status: 'fraud', status_msg: 'Login denied: reported as fraudulent' },
        reason: 'user_marked_fraud',
        result: 'fraud',
      };
  }
}

/** Stable fake Duo user key (DU + 18 chars) so repeated logins look like one user. */
function userKey(name: string): string {
  return `DU${createHash('sha256').update(name).digest('hex').slice(0, 18).toUpperCase()}`;
}

const UNKNOWN_LOCATION = { city: null, state: null, country: null };

export function idTokenClaims(rec: AuthRecord, issuerBase: string, now: number): Record<string, unknown> {
  const v = verdict(rec.decision, rec.factor);
  const iat = Math.floor(now);
  const authTime = Math.floor(rec.authTime);
  return {
    // `sub` is Duo's primary username; the emulator has no aliases, so it is the name sent.
    sub: rec.duoUname,
    preferred_username: rec.duoUname,
    auth_time: authTime,
    auth_result: v.auth_result,
    auth_context: {
      txid: randomUUID(),
      timestamp: authTime,
      isotimestamp: new Date(authTime * 1000).toISOString(),
      event_type: 'authentication',
      factor: rec.factor,
      reason: v.reason,
      result: v.result,
      user: { name: rec.duoUname, key: userKey(rec.duoUname), groups: [] },
      application: { name: 'Web SDK', key: rec.clientId },
      access_device: {
        ip: rec.accessIp,
        hostname: null,
        epkey: null,
        browser: null,
        browser_version: null,
        os: null,
        os_version: null,
        flash_version: 'uninstalled',
        java_version: 'uninstalled',
        is_encryption_enabled: 'unknown',
        is_firewall_enabled: 'unknown',
        is_password_set: 'unknown',
        security_agents: 'unknown',
        location: UNKNOWN_LOCATION,
      },
      auth_device:
        rec.decision === 'bypass'
          ? { ip: null, key: null, name: null, location: UNKNOWN_LOCATION }
          : { ip: null, key: null, name: 'Duo emulator device', location: UNKNOWN_LOCATION },
      email: '',
      alias: 'unknown',
      ood_software: null,
      trusted_endpoint_status: 'not trusted',
    },
    ...(rec.nonce !== undefined ? { nonce: rec.nonce } : {}),
    iss: `${issuerBase}/oauth/v1/token`,
    aud: rec.clientId,
    iat,
    exp: iat + ID_TOKEN_TTL,
  };
}

/** Signs with `secret` (normally the app secret; another one for the wrong_signing_key fault). */
export async function signIdToken(
  rec: AuthRecord,
  issuerBase: string,
  now: number,
  secret: string,
): Promise<string> {
  return new SignJWT(idTokenClaims(rec, issuerBase, now))
    .setProtectedHeader({ alg: 'HS512', typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}
