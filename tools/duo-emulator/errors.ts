// Duo-shaped error bodies (protocol doc §12.4). The texts matter: the SDK
// surfaces them verbatim as "<error>: <error_description>" (or
// "<message>: <message_detail>" for the health check), and gateway tests
// assert on those strings.

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const INVALID_ASSERTION = 'The provided client_assertion was invalid.';

export interface OAuthError {
  error: string;
  error_description: string;
}

/** Health check failure (HTTP status is unverified for real Duo; we use 400). */
export function healthFailBody(nowSeconds: number): Record<string, unknown> {
  return {
    stat: 'FAIL',
    code: 40002,
    timestamp: Math.floor(nowSeconds),
    message: 'invalid_client',
    message_detail: INVALID_ASSERTION,
  };
}

export const tokenErrors = {
  /** Catch-all for every client-assertion failure. */
  invalidClient: { error: 'invalid_client', error_description: INVALID_ASSERTION },
  /** The specific form python's tests show for iss != client_id. */
  issMismatch: {
    error: 'invalid_client',
    error_description: 'Invalid Client assertion: The `iss` claim must match the supplied client_id',
  },
  /** Bad, expired, replayed, foreign code, or redirect_uri mismatch: one text for all. */
  invalidGrant: {
    error: 'invalid_grant',
    error_description:
      'The provided authorization grant or refresh token is invalid, expired, revoked, does not match the redirection URI.',
  },
  redirectUriLength: {
    error: 'invalid_request',
    error_description: "redirect_uri: ['Length must be between 1 and 256.']",
  },
  // The two below are not documented for Duo; RFC 6749 codes with plain texts.
  assertionType: {
    error: 'invalid_request',
    error_description: `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`,
  },
  grantType: {
    error: 'unsupported_grant_type',
    error_description: 'The authorization grant type is not supported by the authorization server.',
  },
} satisfies Record<string, OAuthError>;

export function notFoundBody(path: string, nowSeconds: number): Record<string, unknown> {
  return { stat: 'FAIL', code: 40401, message: 'Not found', message_detail: path, timestamp: Math.floor(nowSeconds) };
}

export function methodNotAllowedBody(method: string, nowSeconds: number): Record<string, unknown> {
  return {
    stat: 'FAIL',
    code: 40501,
    message: 'Method not allowed',
    message_detail: method,
    timestamp: Math.floor(nowSeconds),
  };
}
