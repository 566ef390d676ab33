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
import type { MfaNeed } from '../protocols/oidc/mfa-prompt.ts';

type StepResult = { login?: { accountId?: unknown }; mfa?: unknown } | undefined;

/**
 * The account whose password this login interaction verified for an MFA step held in it: pending (the
 * factor still to come), or done (the factor passed and the browser not yet back at oidc-provider, as for
 * a second submission of the same code form, which then meets a spent challenge as it did in the `mfa`
 * prompt's own interaction). Else undefined.
 */
function heldMfaAccount(details: Details): string | undefined {
  const r = details.result as StepResult;
  if (details.prompt.name !== 'login' || typeof r?.mfa !== 'object' || r.mfa === null || typeof r.login?.accountId !== 'string') return undefined;
  return r.login.accountId;
}

/** The account an MFA screen of this interaction is for: the `mfa` prompt's signed-in one, or the one whose MFA step the login interaction holds. */
export function mfaStepAccount(details: Details): string | undefined {
  return details.prompt.name === 'mfa' ? details.session?.accountId : heldMfaAccount(details);
}

/** The screen an interaction's page shows: its prompt, or `mfa` while it holds an MFA step. */
export const screenOf = (details: Details): string => (heldMfaAccount(details) ? 'mfa' : details.prompt.name);

/** Whether the account that just passed the password step will be asked for a second factor. */
export function createMfaAfterPassword(provider: () => Provider, need: MfaNeed) {
  return async (details: Details, accountId: string, amr: readonly string[]): Promise<boolean> => {
    const client = await provider().Client.find(details.params.client_id as string);
    return !!client && need(client, accountId, amr, details.params);
  };
}
export type MfaAfterPassword = ReturnType<typeof createMfaAfterPassword>;
