// `gatehouse config check`: validates the configuration without opening the database (see ../config-check.ts).
import type { Command } from '../command.ts';
import { configCheck } from '../config-check.ts';

export const configCheckCommand: Command = {
  name: 'config check',
  summary: 'Validate the configuration (file, environment, secret files) and report every problem',
  details: 'Reads GATEHOUSE_CONFIG and the environment exactly like the gateway, production rules included.\n' +
    'Exit code 0 when the configuration is valid, 2 when it is not. Secret values are never printed.',
  async run(ctx) {
    return configCheck(ctx.io.env, ctx.io.stdout, ctx.io.stderr);
  },
};
