// Every `gatehouse` command, in the order `gatehouse --help` lists them.
// To add one (`duo check`, `saml …`): export a Command (from commands/<area>.ts, or next to its logic
// like mfa-admin.ts) and list it here. The dispatcher (main.ts) gives it argument parsing, --help,
// the configuration and the database (ctx.open()), and turns a thrown CliError into a message and
// an exit code.
import type { Command } from './command.ts';
import { migrateCommand } from './commands/migrate.ts';
import { configCheckCommand } from './commands/config.ts';
import { userAddCommand, userPasswdCommand } from './commands/user-password.ts';
import { userDisableCommand, userEnableCommand, userUnlockCommand } from './commands/user-state.ts';
import { userListCommand } from './commands/user-list.ts';
import { keysListCommand, keysRotateCommand } from './commands/keys.ts';
import { duoCheckCommand } from './commands/duo.ts';
import { userTotpImportCommand } from './commands/user-totp.ts';
import { samlRotateKeyCommand } from './commands/saml.ts';
import { userBypassCodeCommand, userMfaResetCommand } from './mfa-admin.ts';

export const COMMANDS: readonly Command[] = [
  migrateCommand,
  configCheckCommand,
  userAddCommand,
  userPasswdCommand,
  userListCommand,
  userDisableCommand,
  userEnableCommand,
  userUnlockCommand,
  userMfaResetCommand,
  userBypassCodeCommand,
  keysRotateCommand,
  keysListCommand,
  userTotpImportCommand,
  duoCheckCommand,
  samlRotateKeyCommand,
];
