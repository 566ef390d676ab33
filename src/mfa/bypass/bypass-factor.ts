// The admin-issued bypass code as a factor: offered only while the user holds an unexpired, unused code
// (otherwise "not enrolled", so the choice page does not even show it). It counts as a one-time code in
// amr (`amrFor({ kind: 'bypass-code' })`); every use is audited by the MFA step like any factor.
import type { MfaFactor } from '../factor.ts';
import type { BypassCodes } from './bypass-codes.ts';

export function createBypassFactor(codes: BypassCodes): MfaFactor {
  return {
    id: 'bypass',
    label: 'Bypass code',
    description: 'Enter the one-time code your administrator gave you.',
    async isAvailable(ctx) {
      return (await codes.hasUsable(ctx.user.id)) ? { usable: true } : { usable: false, reason: 'not_enrolled' };
    },
    async begin() { return { kind: 'form', state: {} }; },
    async complete(ctx, _state, input) {
      return (await codes.use(ctx.user.id, input.code ?? '')) ? { ok: true, second: { kind: 'bypass-code' } } : { ok: false, reason: 'invalid' };
    },
  };
}
