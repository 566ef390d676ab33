// The MFA step inside the login interaction. When the password is right and the sign-in will need a second
// factor, the password screen stores its login result in the interaction, marked pending, and sends the
// browser back to this interaction's own page instead of through oidc-provider: the factor screens run
// here, and their result replaces that login with the stronger amr (interaction/mfa/outcome.ts). That
// saves the trip through /oidc/auth that would only come back with a new interaction for the `mfa`
// prompt: one HTTP exchange, one read and one commit per MFA login, and a redirect hop the user waits for.
// Nothing is trusted from it: a browser that takes the pending result to the resume URL itself is signed
// in with amr ['pwd'], and the `mfa` prompt (protocols/oidc/mfa-prompt.ts) asks for the factor there.
import type Provider from 'oidc-provider';
import type { Details } from './context.ts';
import { mfaNeedFor } from '../protocols/oidc/mfa-prompt.ts';

type PendingResult = { login?: { accountId?: unknown }; mfa?: { pending?: unknown } } | undefined;

/** The account whose password this interaction verified and whose MFA step is still to run; else undefined. */
export function pendingMfaAccount(details: Details): string | undefined {
  const r = details.result as PendingResult;
  if (details.prompt.name !== 'login' || r?.mfa?.pending !== true || typeof r.login?.accountId !== 'string') return undefined;
  return r.login.accountId;
}

/** The account an MFA screen of this interaction is for: the `mfa` prompt's signed-in one, or a pending password step's. */
export function mfaStepAccount(details: Details): string | undefined {
  return details.prompt.name === 'mfa' ? details.session?.accountId : pendingMfaAccount(details);
}

/** The screen an interaction's page shows: its prompt, or `mfa` while a password step waits for it. */
export const screenOf = (details: Details): string => (pendingMfaAccount(details) ? 'mfa' : details.prompt.name);

/** Whether the account that just passed the password step will be asked for a second factor. */
export function createMfaAfterPassword(provider: () => Provider, hasLocalFactor: (accountId: string) => Promise<boolean>) {
  const need = mfaNeedFor(hasLocalFactor);
  return async (details: Details, accountId: string, amr: readonly string[]): Promise<boolean> => {
    const client = await provider().Client.find(details.params.client_id as string);
    return !!client && need(client, accountId, amr, details.params);
  };
}
export type MfaAfterPassword = ReturnType<typeof createMfaAfterPassword>;
