// Recovery codes as a factor of last resort: offered whenever the user has unused codes.
import type { MfaFactor } from '../factor.ts';
import type { RecoveryCodes } from './recovery-codes.ts';

export function createRecoveryFactor(codes: RecoveryCodes): MfaFactor {
  return {
    id: 'recovery',
    label: 'Recovery code',
    description: 'Use one of the recovery codes you saved when you set up your authenticator.',
    async isAvailable(ctx) {
      return (await codes.remaining(ctx.user.id)) > 0 ? { usable: true } : { usable: false, reason: 'not_enrolled' };
    },
    async begin() { return { kind: 'form', state: {} }; },
    async complete(ctx, _state, input) {
      const ok = await codes.use(ctx.user.id, input.code ?? '');
      return ok ? { ok: true, second: { kind: 'recovery-code' }, detail: { remaining: await codes.remaining(ctx.user.id) } } : { ok: false, reason: 'invalid' };
    },
  };
}
