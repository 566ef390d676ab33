// The `mfa` interaction prompt, placed after `login` (see interaction-policy.ts). oidc-provider asks for it
// whenever mfaNeeded() says so; src/interaction/mfa/ renders it and finishes it by re-submitting `login`
// with the stronger amr, or with `mfa.done` when the step passed without a second factor (fail-open,
// single-factor bypass) so the gateway never claims more than happened.
// The password screen asks the same question (mfaNeedFor) to run the MFA step before its login result goes
// back to oidc-provider (interaction/pending-mfa.ts); this prompt stays what enforces it.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { clientPolicy } from './clients.ts';
import { mfaNeeded } from '../../mfa/policy.ts';

const { Prompt, Check } = interactionPolicy;

type HasLocalFactor = (accountId: string) => Promise<boolean>;

/** Whether signing `accountId` in to `client` with `amr` needs the MFA step, for these request parameters. */
export function mfaNeedFor(hasLocalFactor: HasLocalFactor) {
  return (client: { metadata(): Record<string, unknown> }, accountId: string, amr: readonly string[] | undefined, params: Record<string, unknown> | undefined) =>
    mfaNeeded({
      policy: clientPolicy(client).mfa ?? 'required',
      sessionAmr: amr,
      requestedAcr: typeof params?.acr_values === 'string' ? params.acr_values.split(' ') : [],
      hasLocalFactor: () => hasLocalFactor(accountId),
    });
}

export type MfaNeed = ReturnType<typeof mfaNeedFor>;

export function createMfaPrompt(need: MfaNeed) {
  return new Prompt({ name: 'mfa', requestable: false },
    new Check('mfa_required', 'a second factor is required', async (ctx: KoaContextWithOIDC) => {
      const { session, client, params } = ctx.oidc;
      const accountId = session?.accountId;
      if (!accountId || !client) return Check.NO_NEED_TO_PROMPT;
      if ((ctx.oidc.result as { mfa?: { done?: boolean } } | undefined)?.mfa?.done) return Check.NO_NEED_TO_PROMPT;
      return await need(client, accountId, session.amr as string[] | undefined, params as Record<string, unknown> | undefined)
        ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }));
}
