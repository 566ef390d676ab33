// The MFA factor contract. A factor never touches HTTP, cookies or oidc-provider: src/interaction/mfa owns
// those (storing challenges, finishing the prompt, sending a failed user back to the factor choice).
// A new factor is a folder under src/mfa/, one line in registry.ts and one config section.
import type { User } from '../users/users.ts';
import type { SecondFactor } from './amr.ts';

export interface FactorContext {
  readonly user: User;
  readonly interactionUid: string;
  readonly clientId: string;
  /** Where the factor's vendor must send the browser back (redirect factors). */
  readonly callbackUrl: string;
  readonly ip: string;
  /** Client's override of the Duo fail mode, if any. */
  readonly failMode?: 'open' | 'closed';
}

export type Availability =
  | { usable: true }
  // detail: why (e.g. the Duo health problem), for the audit row; never shown to the user.
  | { usable: false; reason: 'not_enrolled' | 'unavailable'; detail?: Record<string, unknown> };

export type Challenge =
  | { kind: 'form'; state: Record<string, unknown> }                         // code entry (TOTP, recovery code)
  | { kind: 'redirect'; url: string; id: string; state: Record<string, unknown> } // vendor prompt (Duo); id = vendor state
  | { kind: 'skip'; outcome: Outcome };                                      // decided without the user (fail-open)

export type FailureReason = 'denied' | 'fraud' | 'invalid' | 'expired' | 'unavailable' | 'not_enrolled' | 'error' | 'too_many_attempts' | 'locked';

export type Outcome =
  | {
    ok: true;
    /** What counts toward amr/acr; undefined = nothing beyond the password (fail-open, single-factor bypass). */
    second?: SecondFactor;
    /** Audit outcome when not a plain success. */
    note?: 'bypass' | 'fail-open';
    detail?: Record<string, unknown>;
  }
  | { ok: false; reason: FailureReason; detail?: Record<string, unknown> };

export interface MfaFactor {
  readonly id: string;
  /** Shown on the factor choice page. */
  readonly label: string;
  readonly description: string;
  isAvailable(ctx: FactorContext): Promise<Availability>;
  begin(ctx: FactorContext): Promise<Challenge>;
  complete(ctx: FactorContext, state: Record<string, unknown>, input: Record<string, string>): Promise<Outcome>;
}
