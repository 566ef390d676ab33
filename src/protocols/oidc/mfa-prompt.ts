// The `mfa` interaction prompt, placed after `login` (see interaction-policy.ts). oidc-provider asks for it
// whenever mfaNeeded() says so; src/interaction/mfa/ renders it and finishes it by re-submitting `login`
// with the stronger amr, or with `mfa.done` when the step passed without a second factor (fail-open,
// single-factor bypass) so the gateway never claims more than happened.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { clientPolicy } from './clients.ts';
import { mfaNeeded } from '../../mfa/policy.ts';

const { Prompt, Check } = interactionPolicy;

export function createMfaPrompt(hasLocalFactor: (accountId: string) => Promise<boolean>) {
  return new Prompt({ name: 'mfa', requestable: false },
    new Check('mfa_required', 'a second factor is required', async (ctx: KoaContextWithOIDC) => {
      const { session, client, params } = ctx.oidc;
      const accountId = session?.accountId;
      if (!accountId || !client) return Check.NO_NEED_TO_PROMPT;
      if ((ctx.oidc.result as { mfa?: { done?: boolean } } | undefined)?.mfa?.done) return Check.NO_NEED_TO_PROMPT;
      const need = await mfaNeeded({
        policy: clientPolicy(client).mfa ?? 'required',
        sessionAmr: session.amr as string[] | undefined,
        requestedAcr: typeof params?.acr_values === 'string' ? params.acr_values.split(' ') : [],
        hasLocalFactor: () => hasLocalFactor(accountId),
      });
      return need ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }));
}
