// Public types of the Duo emulator (see README.md and the protocol doc §12).

/** What happens when a user reaches /oauth/v1/authorize (protocol doc §12.5). */
export type Outcome =
  | 'allow' // 302 with a code; id_token allow
  | 'deny' // 302 with a code; id_token deny
  | 'fraud' // 302 with a code; id_token deny, status fraud
  | 'bypass' // 302 with a code; id_token allow, reason bypass_user
  | 'error_redirect' // 302 with ?error=access_denied
  | 'no_redirect' // 200 page that never returns to the application
  | 'interactive'; // prompt page with Approve / Deny / Cancel buttons

/** Global fault injection. */
export type Fault =
  | 'down' // listening socket closed: connection refused (all endpoints)
  | 'http500' // HTML 500 (health_check, token)
  | 'hang' // request accepted, never answered (health_check, token, authorize)
  | 'bad_json' // 200 with a body that is not JSON (health_check, token)
  | 'wrong_signing_key' // token issues an id_token signed with another secret
  | 'wrong_username'; // token issues a correctly signed id_token for another user (duo_uname + "-other")

export interface EmulatorApp {
  /** Exactly 20 characters (the SDK rejects anything else). */
  clientId: string;
  /** Exactly 40 characters; used as raw UTF-8 HMAC key, like the SDK does. */
  clientSecret: string;
}

export interface DuoEmulatorOptions {
  /** TCP port; 0 (default) picks an ephemeral one. */
  port?: number;
  /** Listen address, default 127.0.0.1. */
  host?: string;
  /**
   * Host name used in `apiHost` (and therefore in every expected `aud` and the
   * issued `iss`). Default 'localhost'. The certificate covers 'localhost',
   * '127.0.0.1' and '::1'.
   */
  hostname?: string;
  /** Registered apps; the first is the default app. Default: one generated app. */
  apps?: EmulatorApp[];
  /** Authorization-code lifetime, default 300 s. */
  codeTtlSeconds?: number;
  /** Reject a client_assertion `jti` seen before (A9). Default true. */
  replayCheckJti?: boolean;
  /** Outcome for users without a specific one; also what reset() restores. Default 'allow'. */
  defaultOutcome?: Outcome;
  /** Called once per request when its response is done (or its socket is gone). */
  onRequest?: (entry: RequestLogEntry) => void;
}

export interface RequestLogEntry {
  method: string;
  /** Path without the query string (the query of authorize carries the request JWT). */
  path: string;
  /** Wall-clock ms (Date.now(), not shifted by the clock offset). */
  at: number;
  /** HTTP status; 0 while unanswered (e.g. the `hang` fault). */
  status: number;
  /** client_id as supplied by the caller, if any. */
  clientId?: string;
  /** Why the request was rejected, e.g. "invalid_client (A6: exp in the past)". */
  error?: string;
  /** Accepted, but something is worth knowing (e.g. query/JWT redirect_uri differ). */
  warning?: string;
}

export interface DuoEmulator {
  /** e.g. 'localhost:43125': configure the SDK with exactly this string. */
  apiHost: string;
  /** CA certificate (PEM) the client must trust. */
  caPem: string;
  /** Default app credentials. */
  clientId: string;
  clientSecret: string;
  setOutcome(username: string, outcome: Outcome): void;
  setDefaultOutcome(outcome: Outcome): void;
  setFault(fault: Fault | null): void;
  /** Seconds added to the emulator's clock (issued iat/exp and every check). */
  setClockOffset(seconds: number): void;
  /** auth_context.factor for this user's future authentications (default 'duo_push'). */
  setFactor(username: string, factor: string): void;
  /** Live log of every request (no secrets, codes or assertions). */
  requests: RequestLogEntry[];
  /** Clears outcomes, factors, faults, clock offset, codes, seen jtis and the log. */
  reset(): void;
  close(): Promise<void>;
}
