// Reading a file an administrator named (a *_FILE secret, the config file, the logo) without trusting it:
// at most maxBytes + 1 bytes are read whatever the file claims, so a path such as /dev/zero, or a
// multi-gigabyte file named by mistake, ends in a clear problem instead of the process running out of memory.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Thrown when the file holds more than maxBytes: `size` is its size when it is a regular file. */
export type TooLarge = Error & { code: 'EFBIG'; size?: number };

export function readBounded(file: string, maxBytes: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    const tooLarge = (size?: number): TooLarge => Object.assign(new Error(`larger than ${maxBytes} bytes`), { code: 'EFBIG' as const, size });
    if (st.isFile() && st.size > maxBytes) throw tooLarge(st.size);
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, null);
    if (n > maxBytes) throw tooLarge(st.isFile() ? n : undefined);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory', ENOTDIR: 'no such file',
};

/** Why a file could not be read, without its name: a *_FILE variable sometimes holds the secret by mistake. */
export const readError = (err: unknown, tooLarge = 'too large') => {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return code === 'EFBIG' ? tooLarge : READ_ERRORS[code] ?? 'unreadable';
};
