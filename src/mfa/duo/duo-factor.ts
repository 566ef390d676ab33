// The Duo Universal Prompt as an MFA factor.
//  begin:    health check (deadline, cached) → fail mode applies only here, before any redirect
//            → state (the SDK's 36 hex chars) and auth URL; the interaction layer stores the state.
//  complete: the interaction layer has already consumed the stored state atomically; here the code is
//            exchanged with the stored username and the result must say `allow` (the SDK does not check).
// After the redirect every failure denies: fail-open never applies to a deny, an error or a bad state.
import type { MfaFactor, Outcome, FactorContext } from '../factor.ts';
import type { DuoClient } from './duo-client.ts';
import { describeDuoError } from './duo-client.ts';
import type { DuoHealth } from './duo-health.ts';
import { duoUsername, type UsernameSource } from './duo-username.ts';

export interface DuoFactorSettings {
  failMode: 'open' | 'closed';
  bypassPolicy: 'mfa' | 'single-factor' | 'deny';
  usernameSource: UsernameSource;
}

/** Duo reasons meaning "allowed without the user doing a second factor". */
const BYPASS_REASONS = new Set(['bypass_user', 'allow_unenrolled_user', 'allowed_by_policy']);

/**
 * Fail mode open covers Duo being unavailable (time-out, network, an outage answer), never Duo refusing
 * us: an untrusted certificate may be an interception, and refused credentials or a clock Duo rejects are
 * a misconfiguration that would otherwise quietly switch MFA off for everyone. Those stay closed.
 * The prefixes are describeDuoError's (duo-client.ts).
 */
export const failsOpen = (problem: string) => /^(timeout|network|response|error):/.test(problem);

export function createDuoFactor(client: DuoClient, health: DuoHealth, s: DuoFactorSettings): MfaFactor {
  const failMode = (ctx: FactorContext, problem = 'error:') => (failsOpen(problem) ? ctx.failMode ?? s.failMode : 'closed');
  return {
    id: 'duo',
    label: 'Duo',
    description: 'Approve a Duo Push, or use another Duo method.',
    // Duo enrolls users itself inside the prompt, so it is offered to everyone while it is healthy.
    async isAvailable(ctx) {
      const h = await health.check();
      return h.ok || failMode(ctx, h.problem) === 'open' ? { usable: true } : { usable: false, reason: 'unavailable', detail: { problem: h.problem } };
    },
    async begin(ctx) {
      const h = await health.check();
      if (!h.ok) {
        if (failMode(ctx, h.problem) === 'open') return { kind: 'skip', outcome: { ok: true, note: 'fail-open', detail: { problem: h.problem } } };
        return { kind: 'skip', outcome: { ok: false, reason: 'unavailable', detail: { problem: h.problem } } };
      }
      const username = duoUsername(ctx.user, s.usernameSource);
      const state = client.generateState();
      const url = await client.createAuthUrl(username, state, ctx.callbackUrl);
      return { kind: 'redirect', url, id: state, state: { username } };
    },
    async complete(ctx, stored, input): Promise<Outcome> {
      if (input.error) return { ok: false, reason: 'denied', detail: { duoError: input.error.slice(0, 64) } };
      const code = input.duo_code ?? input.code;
      if (!code) return { ok: false, reason: 'error', detail: { problem: 'no code in the callback' } };
      let token;
      try {
        token = await client.exchange(code, String(stored.username), ctx.callbackUrl);
      } catch (err) {
        return { ok: false, reason: 'error', detail: { problem: describeDuoError(err) } };
      }
      const result = token.auth_result as { result?: string; status?: string } | undefined;
      const context = (token.auth_context ?? {}) as { factor?: string; reason?: string; result?: string };
      if (result?.result !== 'allow' || result?.status === 'deny' || result?.status === 'fraud') {
        const fraud = result?.status === 'fraud' || context.result === 'fraud' || context.reason === 'user_marked_fraud';
        return { ok: false, reason: fraud ? 'fraud' : 'denied', detail: { duoReason: context.reason } };
      }
      if (BYPASS_REASONS.has(context.reason ?? '') || context.factor === 'not_available') {
        if (s.bypassPolicy === 'deny') return { ok: false, reason: 'denied', detail: { duoReason: context.reason, bypass: true } };
        return {
          ok: true, note: 'bypass', detail: { duoReason: context.reason, policy: s.bypassPolicy },
          ...(s.bypassPolicy === 'mfa' ? { second: { kind: 'duo' as const, duoFactor: context.factor } } : {}),
        };
      }
      return { ok: true, second: { kind: 'duo', duoFactor: context.factor }, detail: { duoFactor: context.factor } };
    },
  };
}
