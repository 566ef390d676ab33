// Help texts, generated from the command table so they cannot drift from what the parser accepts.
import type { Command } from './command.ts';
import { formatTable } from './table.ts';

const synopsis = (c: Command) => [c.name, ...(c.args ?? []).map((a) => `<${a}>`)].join(' ');

/** `gatehouse --help`, or the commands of one group (`gatehouse user --help`). */
export function generalHelp(commands: readonly Command[], group?: string): string {
  const listed = group ? commands.filter((c) => c.name.startsWith(`${group} `)) : commands;
  const rows = listed.map((c) => [synopsis(c), c.summary]);
  return [
    `Usage: gatehouse ${group ?? '<command>'}${group ? ' <command>' : ''} [options]`,
    '',
    ...(group ? [] : [
      'Administers a Gatehouse SSO gateway. Reads the same configuration as the gateway: GATEHOUSE_CONFIG,',
      'environment variables, DATABASE_URL (or the embedded database under GATEHOUSE_DATA_DIR), GATEHOUSE_SECRET.',
      '',
    ]),
    'Commands:',
    ...formatTable(['', ''], rows).slice(1).map((l) => `  ${l}`),
    '',
    `Run \`gatehouse ${group ? `${group} ` : ''}<command> --help\` for its options.`,
    'Exit codes: 0 success, 1 failure, 2 usage or configuration error.',
  ].join('\n') + '\n';
}

/** `gatehouse <command> --help`. */
export function commandHelp(c: Command): string {
  const flags = Object.entries(c.flags ?? {}).map(([name, f]) => [`--${name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`, f.help]);
  flags.push(['-h, --help', 'Show this help']);
  return [
    `Usage: gatehouse ${synopsis(c)}${c.flags ? ' [options]' : ''}`,
    '',
    `${c.summary}.`,
    '',
    'Options:',
    ...formatTable(['', ''], flags).slice(1).map((l) => `  ${l}`),
    ...(c.details ? ['', c.details] : []),
  ].join('\n') + '\n';
}
