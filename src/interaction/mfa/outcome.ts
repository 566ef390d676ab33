// Turns a factor's Outcome into the next step: success finishes the `mfa` prompt (amr from the one table),
// failure sends the user back to the factor choice with a reason. Both are audited and counted.
import type Provider from 'oidc-provider';
import type { Audit } from '../../platform/audit.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Users, User } from '../../users/users.ts';
import type { Outcome } from '../../mfa/factor.ts';
import { acrFor, amrFor } from '../../mfa/amr.ts';
import { finish, type InteractionContext, type OnLost } from '../context.ts';
import { afterCommit } from '../../storage/unit-of-work.ts';

export interface OutcomeDeps { provider: () => Provider; audit: Audit; metrics: Metrics; users: Users }

export function createOutcomeHandler(d: OutcomeDeps) {
  /**
   * `onLost` (a success whose one-time writes were deferred to the commit): commit before answering, and
   * answer through onLost when a parallel request spent the step or the challenge first.
   */
  return async function handleOutcome(c: InteractionContext, user: User, factor: string, outcome: Outcome, onLost?: OnLost) {
    const base = { type: `mfa.${factor}`, userId: user.id, username: user.username, clientId: c.details.params.client_id as string, ip: c.req.ip, factor };
    if (!outcome.ok) {
      await d.audit.record({ ...base, outcome: outcome.reason === 'error' || outcome.reason === 'unavailable' ? 'error' : 'failure', reason: outcome.reason, detail: outcome.detail });
      d.metrics.mfa.inc({ factor, result: 'failure', reason: outcome.reason });
      return c.reply.code(303).header('cache-control', 'no-store')
        .redirect(`/interaction/${c.uid}?failed=${outcome.reason}&factor=${encodeURIComponent(factor)}`, 303);
    }
    const amr = amrFor(outcome.second);
    await d.audit.record({ ...base, outcome: outcome.note ?? 'success', reason: outcome.note ?? null, detail: { amr, ...outcome.detail } });
    // Counted once the sign-in is written: a commit that loses (onLost) counts as the failure it becomes.
    afterCommit(() => d.metrics.mfa.inc({ factor, result: outcome.note ?? 'success', reason: 'none' }));
    // Fallbacks (recovery, admin bypass code) never become the pre-selected choice; an unchanged one is not rewritten.
    if (outcome.second && factor !== 'recovery' && factor !== 'bypass' && user.preferredFactor !== factor) await d.users.setPreferredFactor(user.id, factor);
    // Re-finishing `login` records the stronger amr on the session (and rotates the session id);
    // `mfa.done` also lets a fail-open or single-factor bypass pass without claiming MFA.
    return finish(c, d.provider(), {
      login: { accountId: user.id, amr, acr: acrFor(amr), remember: true },
      mfa: { done: true, factor, ...(outcome.note ? { note: outcome.note } : {}) },
    }, true, onLost);
  };
}
