// TOTP as an MFA factor: available once enrolled; a form challenge with a bounded number of tries.
import type { MfaFactor, Outcome } from '../factor.ts';
import type { TotpStore } from './totp-store.ts';
import { matchStep } from './totp-code.ts';

export function createTotpFactor(store: TotpStore): MfaFactor {
  return {
    id: 'totp',
    label: 'Authenticator app',
    description: 'Enter the 6-digit code from your authenticator app.',
    async isAvailable(ctx) {
      return (await store.isEnrolled(ctx.user.id)) ? { usable: true } : { usable: false, reason: 'not_enrolled' };
    },
    async begin() { return { kind: 'form', state: {} }; },
    async complete(ctx, _state, input): Promise<Outcome> {
      const seed = await store.find(ctx.user.id);
      if (!seed?.confirmed) return { ok: false, reason: 'not_enrolled' };
      const step = matchStep(seed.secret, (input.code ?? '').replace(/\s/g, ''));
      if (step === undefined) return { ok: false, reason: 'invalid' };
      // RFC 6238 §5.2: the same code (time step) is accepted once, also under concurrency. Inside a request's
      // unit of work the step is spent by the commit that signs the user in (a loser: mfa/routes.ts).
      if (!(await store.acceptStepAtCommit(ctx.user.id, step))) return { ok: false, reason: 'invalid', detail: { replay: true } };
      return { ok: true, second: { kind: 'totp' } };
    },
  };
}
