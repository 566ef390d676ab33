// The one place where what happened during sign-in becomes `amr` (RFC 8176) and `acr`.
// OIDC ID tokens and SAML AuthnContextClassRef both read from here, so they can never disagree,
// and a downgrade (Duo fail-open, a bypass counted as single factor) never claims more than happened.

/** acr for password-only sign-in; also the SAML AuthnContextClassRef. */
export const ACR_PASSWORD = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';
/** acr for sign-in with a second factor (REFEDS MFA profile, understood by SAML and OIDC RPs alike). */
export const ACR_MFA = 'https://refeds.org/profile/mfa';
export const ACR_VALUES = [ACR_PASSWORD, ACR_MFA] as const;

/** Duo's auth_context.factor → RFC 8176 amr values. */
const DUO_FACTOR_AMR: Record<string, string[]> = {
  duo_push: ['swk', 'user'], push: ['swk', 'user'],
  passcode: ['otp'], duo_mobile_passcode: ['otp'], hardware_token: ['otp', 'hwk'], yubikey_code: ['otp', 'hwk'],
  phone_call: ['tel'], sms_passcode: ['sms', 'otp'], sms: ['sms', 'otp'],
  webauthn: ['hwk', 'user'], security_key: ['hwk'], 'WebAuthn Security Key': ['hwk'],
  'WebAuthn Credential': ['hwk', 'user'], 'WebAuthn Chrome Touch ID': ['fpt', 'user'], biometric: ['fpt', 'user'],
};

export type SecondFactor =
  | { kind: 'totp' }
  | { kind: 'recovery-code' }
  | { kind: 'duo'; duoFactor?: string }
  | { kind: 'bypass-code' };

/** amr for a sign-in: password, plus what the second factor contributed (none = password only). */
export function amrFor(second?: SecondFactor): string[] {
  const amr = new Set(['pwd']);
  if (second) {
    if (second.kind === 'totp' || second.kind === 'recovery-code' || second.kind === 'bypass-code') amr.add('otp');
    if (second.kind === 'duo') for (const v of DUO_FACTOR_AMR[second.duoFactor ?? ''] ?? []) amr.add(v);
    amr.add('mfa');
  }
  return [...amr];
}

export const hasMfa = (amr: readonly string[] | undefined) => !!amr?.includes('mfa');
export const acrFor = (amr: readonly string[]) => (hasMfa(amr) ? ACR_MFA : ACR_PASSWORD);
