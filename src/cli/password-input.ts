// Reads a new password: the first line of stdin when it is piped, otherwise typed twice in the terminal
// without echo. Never from the command line: argv is visible to every local user (ps, /proc) and is
// kept in shell history.
import { StringDecoder } from 'node:string_decoder';
import type { CliInput, Writer } from './io.ts';
import { failure, usageError } from './errors.ts';

/** The first line of a piped stdin, without its line ending. */
export async function readFirstLine(stdin: CliInput): Promise<string | undefined> {
  const decoder = new StringDecoder('utf8');
  let text = '';
  let ended = true;
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    if (text.includes('\n')) { ended = false; break; } // stop reading: the rest is not ours
  }
  if (ended) text += decoder.end();
  if (text === '') return undefined;
  return text.split('\n')[0]!.replace(/\r$/, '');
}

/** Prompts on `prompt` and reads one line in raw mode, echoing nothing. */
export function readHidden(stdin: CliInput, prompt: Writer, label: string): Promise<string> {
  prompt.write(label);
  const decoder = new StringDecoder('utf8');
  return new Promise((resolve, reject) => {
    let typed: string[] = [];
    const finish = (err?: Error) => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      stdin.setRawMode!(false);
      stdin.pause();
      prompt.write('\n');
      if (err) reject(err); else resolve(typed.join(''));
    };
    function onData(chunk: Buffer | string) {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      if (text.startsWith('\u001b')) return; // arrow keys and other escape sequences: not part of a password
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(failure('cancelled; nothing was changed'));
        if (ch === '\u0004') { if (typed.length === 0) return finish(failure('cancelled; nothing was changed')); continue; }
        if (ch === '\u007f' || ch === '\b') { typed = typed.slice(0, -1); continue; }
        if (ch < ' ') continue;
        typed.push(ch);
      }
    }
    function onEnd() { finish(failure('the terminal closed; nothing was changed')); }
    stdin.setRawMode!(true);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  });
}

/**
 * The new password for `username`, at least `minLength` characters (code points).
 * Piped stdin: its first line. Terminal: prompted twice on `prompt`, which must match.
 */
export async function readNewPassword(stdin: CliInput, prompt: Writer, username: string, minLength: number): Promise<string> {
  const check = (password: string) => {
    if ([...password].length < minLength) {
      throw usageError(`the password is too short: at least ${minLength} characters are required (passwords.minLength); nothing was changed`);
    }
    return password;
  };
  if (!stdin.isTTY) {
    const line = await readFirstLine(stdin);
    if (line === undefined || line === '') {
      throw usageError('no password on stdin; nothing was changed',
        "Pipe the password as the first line of stdin, e.g. `printf '%s\\n' \"$PW\" | npx gatehouse …`, or run in a terminal to be prompted.");
    }
    return check(line);
  }
  if (typeof stdin.setRawMode !== 'function') throw failure('cannot hide typed input on this terminal', 'Pipe the password on stdin instead.');
  const first = check(await readHidden(stdin, prompt, `New password for ${username}: `));
  const again = await readHidden(stdin, prompt, 'Repeat the password: ');
  if (first !== again) throw usageError('the two passwords do not match; nothing was changed');
  return first;
}
