// The `gatehouse` command: a small dispatcher over the table in commands.ts (no CLI framework).
// Exit codes: 0 success, 1 failure, 2 usage or configuration error.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import type { Command, Context, Opened } from './command.ts';
import { COMMANDS } from './commands.ts';
import { CliError, EXIT, usageError } from './errors.ts';
import { commandHelp, generalHelp } from './help.ts';
import type { CliIo } from './io.ts';

const HELP = new Set(['--help', '-h']);

/** The command selected by the leading words of argv (the longest name wins), and the rest of argv. */
function findCommand(argv: string[], commands: readonly Command[]): { command?: Command; rest: string[] } {
  let best: Command | undefined;
  for (const c of commands) {
    const words = c.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && words.length > (best?.name.split(' ').length ?? 0)) best = c;
  }
  return { command: best, rest: best ? argv.slice(best.name.split(' ').length) : argv };
}

/** Help or a usage error for argv that names no command. */
function noCommand(argv: string[], io: CliIo, commands: readonly Command[]): number {
  const [first, second] = argv;
  const isGroup = first !== undefined && commands.some((c) => c.name.startsWith(`${first} `));
  if (isGroup && second !== undefined && HELP.has(second)) {
    io.stdout.write(generalHelp(commands, first));
    return EXIT.ok;
  }
  if (isGroup) {
    io.stderr.write(second === undefined || second.startsWith('-')
      ? `gatehouse: '${first}' needs a command.\n\n` : `gatehouse: unknown command '${first} ${second}'.\n\n`);
    io.stderr.write(generalHelp(commands, first));
    return EXIT.usage;
  }
  io.stderr.write(first === undefined ? '' : `gatehouse: unknown command '${first}'.\n\n`);
  io.stderr.write(generalHelp(commands));
  return EXIT.usage;
}

/** Checks argv against the command's declared flags and arguments. */
function parseFor(command: Command, rest: string[]) {
  const options: ParseArgsOptionsConfig = {};
  for (const [name, f] of Object.entries(command.flags ?? {})) options[name] = { type: f.type };
  const seeHelp = `Run \`gatehouse ${command.name} --help\` for its usage.`;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    // node:util's text for an unknown option is a paragraph about '--'; the option name is what matters.
    const unknown = (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && /'([^']+)'/.exec((err as Error).message)?.[1];
    throw usageError(`${command.name}: ${unknown ? `unknown option '${unknown}'` : (err as Error).message}`, seeHelp);
  }
  const names = command.args ?? [];
  if (parsed.positionals.length < names.length) throw usageError(`${command.name}: missing <${names[parsed.positionals.length]}>`, seeHelp);
  if (parsed.positionals.length > names.length) throw usageError(`${command.name}: unexpected argument '${parsed.positionals[names.length]}'`, seeHelp);
  return { args: parsed.positionals, flags: parsed.values as Context['flags'] };
}

/** Passwords never travel on the command line: argv is visible to other users and kept in shell history. */
function refusePasswordFlag(argv: string[]) {
  const end = argv.indexOf('--');
  const flags = end < 0 ? argv : argv.slice(0, end);
  if (flags.some((a) => a === '--password' || a.startsWith('--password='))) {
    throw usageError('--password is not accepted: a password on the command line is visible to other local users (ps, /proc) and stays in shell history.',
      "Pipe it on stdin instead, e.g. `printf '%s\\n' \"$PASSWORD\" | npx gatehouse user add alice`, or run the command in a terminal to be prompted.");
  }
}

async function dispatch(argv: string[], io: CliIo, commands: readonly Command[]): Promise<number> {
  refusePasswordFlag(argv);
  if (argv[0] === 'help' || (argv[0] !== undefined && HELP.has(argv[0]))) {
    const { command } = findCommand(argv.slice(1), commands);
    const group = argv[1] !== undefined && commands.some((c) => c.name.startsWith(`${argv[1]} `)) ? argv[1] : undefined;
    io.stdout.write(command ? commandHelp(command) : generalHelp(commands, group));
    return EXIT.ok;
  }
  const { command, rest } = findCommand(argv, commands);
  if (!command) return noCommand(argv, io, commands);
  const end = rest.indexOf('--');
  if ((end < 0 ? rest : rest.slice(0, end)).some((a) => HELP.has(a))) {
    io.stdout.write(commandHelp(command));
    return EXIT.ok;
  }
  const { args, flags } = parseFor(command, rest);
  let opened: Promise<Opened> | undefined;
  const ctx: Context = {
    io, args, flags,
    out: (line) => { io.stdout.write(`${line}\n`); },
    note: (line) => { io.stderr.write(`${line}\n`); },
    // Imported on first use: help and usage errors need neither the database driver nor argon2.
    open: () => (opened ??= import('./open.ts').then((m) => m.openServices(io))),
  };
  try {
    return (await command.run(ctx)) ?? EXIT.ok;
  } finally {
    if (opened) await opened.then((o) => o.services.db.close(), () => {});
  }
}

function report(err: unknown, io: CliIo): number {
  if (err instanceof CliError) {
    io.stderr.write(`gatehouse: ${err.message}\n${err.hint ? `${err.hint}\n` : ''}`);
    return err.code;
  }
  const e = err as { message?: string; code?: string };
  io.stderr.write(`gatehouse: unexpected error${e.code ? ` (${e.code})` : ''}: ${e.message || String(err)}\n`);
  return EXIT.failure;
}

/**
 * Runs one `gatehouse` invocation and resolves to its exit code. Reads and writes only `io`, so tests
 * run it in-process with their own environment and streams.
 */
export async function runCli(argv: string[], io: CliIo, commands: readonly Command[] = COMMANDS): Promise<number> {
  try {
    return await dispatch(argv, io, commands);
  } catch (err) {
    return report(err, io);
  }
}

/** Runs the command of this process (bin/gatehouse.mjs, `npm run gatehouse`) and sets its exit code. */
export async function runMain(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await runMain();
