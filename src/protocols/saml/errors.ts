// Stable codes for every way an inbound SAML message or step can be refused. A SamlError becomes either an
// error page (the sender cannot be trusted with an answer: unknown SP, bad signature, unregistered ACS) or,
// when `status` is set and the request was trustworthy, a SAML Response with that status sent to the ACS.

export interface SamlErrorSpec { http: number; message: string; status?: readonly [string, string?] }

/** Code → HTTP status and the user-facing sentence (never internal detail). */
export const SAML_ERRORS = {
  GW_SAML_MALFORMED: { http: 400, message: 'The application sent a SAML message that could not be read.' },
  GW_SAML_TOO_LARGE: { http: 413, message: 'The application sent a SAML message that is too large.' },
  GW_SAML_DOCTYPE: { http: 400, message: 'The SAML message contains a document type declaration, which is not allowed.' },
  GW_SAML_COMMENT: { http: 400, message: 'The SAML message contains an XML comment, which is not allowed.' },
  GW_SAML_PI: { http: 400, message: 'The SAML message contains a processing instruction, which is not allowed.' },
  GW_SAML_SCHEMA: { http: 400, message: 'The SAML message does not have the expected structure.' },
  GW_SAML_SCHEMA_UNAVAILABLE: { http: 503, message: 'Sign-in is temporarily unavailable. Please try again in a moment.' },
  GW_SAML_UNKNOWN_SP: { http: 400, message: 'The application is not registered with this sign-in service.' },
  GW_SAML_UNSIGNED: { http: 400, message: 'The SAML message must be signed by the application.' },
  GW_SAML_SIGNATURE_INVALID: { http: 400, message: 'The signature on the SAML message is not valid.' },
  GW_SAML_SIGNATURE_COUNT: { http: 400, message: 'The SAML message must carry exactly one signature.' },
  GW_SAML_SIGNATURE_PLACEMENT: { http: 400, message: 'The signature on the SAML message is not where it must be.' },
  GW_SAML_SIGNATURE_REFERENCE: { http: 400, message: 'The signature does not cover the SAML message.' },
  GW_SAML_SIGNATURE_TRANSFORM: { http: 400, message: 'The signature uses a transform that is not allowed.' },
  GW_SAML_DUPLICATE_ID: { http: 400, message: 'The SAML message contains duplicate identifiers.' },
  GW_SAML_WEAK_ALGORITHM: { http: 400, message: 'The SAML message is signed with an algorithm that is not allowed (SHA-256 or stronger is required).' },
  GW_SAML_ISSUER_MISMATCH: { http: 400, message: 'The SAML message was not signed by the application it names.' },
  GW_SAML_STALE: { http: 400, message: 'The SAML message is too old or from the future. Check the clocks and try again.' },
  GW_SAML_DESTINATION: { http: 400, message: 'The SAML message was addressed to a different endpoint.' },
  GW_SAML_REPLAY: { http: 400, message: 'This SAML message has already been used.' },
  GW_SAML_ACS_UNKNOWN: { http: 400, message: 'The application asked for its answer to go to an address that is not registered.' },
  GW_SAML_BINDING: { http: 400, message: 'The application asked for a SAML binding this sign-in service does not support.' },
  GW_SAML_RELAY_STATE: { http: 400, message: 'The RelayState sent by the application is too long.' },
  GW_SAML_EXPIRED: { http: 400, message: 'This sign-in has expired or was already completed.' },
  GW_SAML_BROWSER_MISMATCH: { http: 400, message: 'This sign-in was started in a different browser.' },
  GW_SAML_IDP_INIT_DISABLED: { http: 403, message: 'Signing in from here is not enabled for this application.' },
  GW_SAML_UNEXPECTED_RESPONSE: { http: 400, message: 'The SAML logout response does not match a logout in progress.' },
  // Answered to the SP as a SAML status (the request itself was sound).
  GW_SAML_NO_PASSIVE: { http: 200, message: 'Sign-in would need user interaction.', status: ['urn:oasis:names:tc:SAML:2.0:status:Responder', 'urn:oasis:names:tc:SAML:2.0:status:NoPassive'] },
  GW_SAML_AUTHN_FAILED: { http: 200, message: 'Sign-in did not complete.', status: ['urn:oasis:names:tc:SAML:2.0:status:Responder', 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed'] },
  GW_SAML_NO_AUTHN_CONTEXT: { http: 200, message: 'The requested authentication context cannot be met.', status: ['urn:oasis:names:tc:SAML:2.0:status:Responder', 'urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext'] },
  GW_SAML_NAMEID_POLICY: { http: 200, message: 'The requested NameID format is not available for this application.', status: ['urn:oasis:names:tc:SAML:2.0:status:Requester', 'urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy'] },
} as const satisfies Record<string, SamlErrorSpec>;

export type SamlErrorCode = keyof typeof SAML_ERRORS;

/** A refusal with a stable code; `detail` goes to the log only. */
export class SamlError extends Error {
  readonly code: SamlErrorCode;
  readonly detail: string;
  constructor(code: SamlErrorCode, detail = '') {
    super(`${code}${detail ? `: ${detail}` : ''}`);
    this.name = 'SamlError';
    this.code = code;
    this.detail = detail;
  }
  get http(): number { return SAML_ERRORS[this.code].http; }
  get publicMessage(): string { return SAML_ERRORS[this.code].message; }
  get samlStatus(): readonly [string, string?] | undefined { return (SAML_ERRORS[this.code] as SamlErrorSpec).status; }
}

export const isSamlError = (e: unknown): e is SamlError => e instanceof SamlError;
