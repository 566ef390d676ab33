// `gatehouse duo check`: Duo's health check with the configured credentials (see src/cli/duo-check.ts).
import type { Command } from '../command.ts';
import { duoCheck } from '../duo-check.ts';

export const duoCheckCommand: Command = {
  name: 'duo check',
  summary: 'Check the Duo settings against Duo and say plainly what is wrong',
  details: 'Uses DUO_CLIENT_ID, DUO_CLIENT_SECRET (or DUO_CLIENT_SECRET_FILE), DUO_API_HOST and mfa.duo.caFile.\n' +
    'Reports credentials, clock skew, network and TLS problems. Exit 0 when Duo answers, 1 when it does not, 2 when not configured.',
  async run(ctx) {
    const { config } = await ctx.open();
    return duoCheck(config, (l) => ctx.out(l), (l) => ctx.note(l));
  },
};
