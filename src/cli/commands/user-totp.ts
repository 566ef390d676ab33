// `gatehouse user totp-import <username>`: bring an existing authenticator seed over from another IdP, so
// users keep their app entry. The base32 seed is read from stdin (never argv), checked, encrypted at rest.
import type { Command } from '../command.ts';
import { usageError } from '../errors.ts';
import { readFirstLine, readHidden } from '../password-input.ts';
import { base32Decode } from '../../mfa/totp/totp-code.ts';
import { auditCli, findUserOrFail } from './user-common.ts';

export const userTotpImportCommand: Command = {
  name: 'user totp-import',
  summary: 'Import an existing TOTP seed (base32, from stdin) for a user, e.g. when migrating from another IdP',
  args: ['username'],
  details: 'The seed is read from standard input (or asked without echo); it must be base32 (RFC 6238, SHA-1,\n' +
    '6 digits, 30 s) of at least 80 bits. It replaces any authenticator the user had and is stored encrypted.',
  async run(ctx) {
    const [username] = ctx.args as [string];
    const { services } = await ctx.open();
    const user = await findUserOrFail(services, username);
    const raw = (ctx.io.stdin as { isTTY?: boolean }).isTTY
      ? await readHidden(ctx.io.stdin, ctx.io.stderr, 'TOTP seed (base32): ')
      : await readFirstLine(ctx.io.stdin);
    const seed = (raw ?? '').toUpperCase().replace(/[\s=-]/g, '');
    let bytes: Buffer;
    try { bytes = base32Decode(seed); } catch { throw usageError('the seed is not base32 (letters A–Z and digits 2–7)'); }
    if (bytes.length < 10) throw usageError('the seed is too short: at least 16 base32 characters (80 bits) are needed');
    await services.mfa.totp.importConfirmed(user.id, seed);
    await auditCli(services, 'mfa.totp.import', user);
    services.metrics.account.inc({ action: 'totp_import', result: 'success' });
    ctx.out(`Imported an authenticator seed for ${user.username}; their existing app codes work from now on.`);
  },
};
