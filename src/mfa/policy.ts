// When the MFA step runs. One function, used by the oidc-provider prompt and by SAML (through it).
//  - off:       never, unless the relying party explicitly asks for MFA (acr_values).
//  - optional:  when the RP asks, or the user has enrolled a local factor (TOTP).
//  - required:  always (default).
// A session that already holds a second factor is not asked again (single sign-on); max_age and
// prompt=login make oidc-provider re-run `login`, which resets amr to ['pwd'] and so re-asks MFA too.
import { ACR_MFA, hasMfa } from './amr.ts';
import type { MfaPolicy } from '../config/schema.ts';

export interface MfaNeedInput {
  policy: MfaPolicy;
  sessionAmr: readonly string[] | undefined;
  requestedAcr: readonly string[];
  hasLocalFactor: () => Promise<boolean>;
}

export const rpAsksForMfa = (acr: readonly string[]) => acr.includes(ACR_MFA) || acr.includes('mfa');

export async function mfaNeeded(i: MfaNeedInput): Promise<boolean> {
  if (hasMfa(i.sessionAmr)) return false;
  if (rpAsksForMfa(i.requestedAcr)) return true;
  if (i.policy === 'required') return true;
  if (i.policy === 'optional') return i.hasLocalFactor();
  return false;
}
