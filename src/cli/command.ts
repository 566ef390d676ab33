// The shape of one `gatehouse` command. Commands are data in the table of commands.ts; the dispatcher
// (main.ts) parses arguments, prints help and maps errors, so a command only does its work.
import type { Config } from '../config/schema.ts';
import type { Services } from '../services.ts';
import type { Migration } from '../storage/migrate.ts';
import type { CliIo } from './io.ts';

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** Placeholder shown in help for string flags, e.g. 'NAME'. */
  value?: string;
  help: string;
}

/** The configuration and services of one run; the database is closed by the dispatcher. */
export interface Opened {
  config: Config;
  services: Services;
  /** Migrations this run applied before the command (usually none). */
  applied: Migration[];
}

export interface Context {
  io: CliIo;
  /** Positional arguments, in the order of `Command.args`. */
  args: string[];
  flags: Record<string, string | boolean | undefined>;
  /** Writes one line to stdout (results). */
  out(line: string): void;
  /** Writes one line to stderr (notes for the operator, never results). */
  note(line: string): void;
  /** Loads the configuration and opens (and migrates) the database; at most once per run. */
  open(): Promise<Opened>;
}

export interface Command {
  /** The words that select the command: 'migrate', 'user add'. */
  name: string;
  /** One line in the command list. */
  summary: string;
  /** Required positional arguments, e.g. ['username']. */
  args?: string[];
  flags?: Record<string, FlagSpec>;
  /** More help text, shown by `gatehouse <command> --help`. */
  details?: string;
  /** Resolves to the exit code (0 when omitted); throws CliError to fail with a message. */
  run(ctx: Context): Promise<number | void>;
}
