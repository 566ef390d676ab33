// Runs the real start command (`node src/main.ts`, as `npm start` and the container do) as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { freePort } from './gateway.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Started { child: ChildProcess; url: string; port: number; stdout: () => string; stderr: () => string; exited: Promise<number | null> }

/** Starts the gateway process and waits until it answers /healthz (or throws with its output). */
export async function startProcess(t: Test, env: Record<string, string> = {}): Promise<Started> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  let out = ''; let err = '';
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (b) => { out += b; });
  child.stderr!.on('data', (b) => { err += b; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 900; i++) {
    if (child.exitCode !== null) throw new Error(`gateway exited early (${child.exitCode}):\n${out}\n${err}`);
    try { if ((await fetch(`${url}/healthz`)).ok) return { child, url, port, stdout: () => out, stderr: () => err, exited }; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gateway did not start:\n${out}\n${err}`);
}
