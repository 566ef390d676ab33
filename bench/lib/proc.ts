// Child processes pinned to a CPU (taskset execs node, so the pid and the IPC channel are node's own),
// with a tiny request/response protocol over the IPC channel.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BENCH = fileURLToPath(new URL('../', import.meta.url));

export interface Rpc { id: number; method: string; params?: unknown }
export interface Reply { id: number; result?: unknown; error?: string }
export interface Event { event: string; [k: string]: unknown }

export interface Child {
  name: string; pid: number; proc: ChildProcess;
  call<T = unknown>(method: string, params?: unknown, timeoutMs?: number): Promise<T>;
  once(event: string, timeoutMs?: number): Promise<Event>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  name: string; cpu: number | null; script: string; args?: string[]; env?: Record<string, string>;
  /** stdout/stderr go to this file (a gateway logs a line per request: never through a pipe to us). */
  logFile: string; execArgv?: string[];
  /** Working directory (default: this checkout). */
  cwd?: string;
}

export function spawnChild(o: SpawnOptions): Child {
  const fd = openSync(o.logFile, 'a');
  const node = [...(o.execArgv ?? []), ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), o.script, ...(o.args ?? [])];
  const cmd = o.cpu === null ? process.execPath : 'taskset';
  const argv = o.cpu === null ? node : ['-c', String(o.cpu), process.execPath, ...node];
  const proc = spawn(cmd, argv, {
    cwd: o.cwd ?? ROOT, stdio: ['ignore', fd, fd, 'ipc'],
    // The compile cache (V8 code cache for loaded modules) only shortens start-up, and bench start-ups run
    // several at once on a busy machine; steady-state code is compiled by V8 the same way either way.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production', NODE_COMPILE_CACHE: `${ROOT}node_modules/.cache/gatehouse-bench/compile`, ...o.env },
  });
  closeSync(fd);
  let seq = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const waiters: Array<{ event: string; resolve(e: Event): void }> = [];
  const seen: Event[] = [];
  let exitErr: Error | undefined;
  proc.on('message', (m: Reply | Event) => {
    if ('event' in m) {
      const i = waiters.findIndex((w) => w.event === m.event);
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m); else seen.push(m);
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(new Error(`${o.name}.${m.error}`)); else p.resolve(m.result);
  });
  proc.on('exit', (code, sig) => {
    exitErr = new Error(`${o.name} exited (${code ?? sig}); see ${o.logFile}`);
    for (const p of pending.values()) p.reject(exitErr);
    pending.clear();
  });
  const child: Child = {
    name: o.name, pid: proc.pid!, proc,
    call<T>(method: string, params?: unknown, timeoutMs = 600_000) {
      if (exitErr) return Promise.reject(exitErr);
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => { pending.delete(id); reject(new Error(`${o.name}.${method}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
        pending.set(id, {
          resolve: (v) => { clearTimeout(timer); resolve(v as T); },
          reject: (e) => { clearTimeout(timer); reject(e); },
        });
        proc.send({ id, method, params } satisfies Rpc);
      });
    },
    once(event: string, timeoutMs = 120_000) {
      const i = seen.findIndex((e) => e.event === event);
      if (i >= 0) return Promise.resolve(seen.splice(i, 1)[0]!);
      if (exitErr) return Promise.reject(exitErr);
      return new Promise<Event>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${o.name}: no '${event}' in ${timeoutMs} ms; see ${o.logFile}`)), timeoutMs);
        const onExit = () => { clearTimeout(timer); reject(exitErr ?? new Error(`${o.name} exited`)); };
        proc.once('exit', onExit);
        waiters.push({ event, resolve: (e) => { clearTimeout(timer); proc.off('exit', onExit); resolve(e); } });
      });
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      try { proc.send({ id: 0, method: 'exit' }); } catch { /* channel gone */ }
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
  return child;
}

type Handler = (params: any) => unknown;
/** Child side: answers RPCs with the given handlers; 'exit' ends the process after `onExit`. */
export function serveRpc(handlers: Record<string, Handler>, onExit: () => Promise<void> = async () => {}) {
  process.on('message', async (m: Rpc) => {
    if (m.method === 'exit') {
      try { await onExit(); } finally { process.exit(0); }
    }
    const h = handlers[m.method];
    try {
      if (!h) throw new Error(`unknown method ${m.method}`);
      process.send!({ id: m.id, result: await h(m.params) } satisfies Reply);
    } catch (err) {
      process.send!({ id: m.id, error: `${m.method}: ${(err as Error).stack ?? err}` } satisfies Reply);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

export const emit = (e: Event) => process.send!(e);
