// argon2id password hashing (OWASP parameters by default), off the event loop with bounded concurrency
// so a login flood cannot starve token, JWKS and health requests, and with a bounded wait so that it
// cannot pile up either: a check that would wait longer than `maxQueueWaitMs` for a hashing slot is
// refused at once (HashingBusyError → 503 with Retry-After) instead of joining the queue.
import { hash, verify } from '@node-rs/argon2';
import { availableParallelism } from 'node:os';

export interface PasswordParams {
  memoryKiB: number; iterations: number; parallelism: number;
  /** The longest a check may expect to wait for a slot; 0 queues without limit. */
  maxQueueWaitMs?: number;
  /** Hashes at a time; the core count unless a test pins it. */
  slots?: number;
}

export interface Passwords {
  hash(password: string): Promise<string>;
  verify(stored: string, password: string): Promise<boolean>;
  /** Spends the same time as a real verification; used for unknown users so timing tells nothing. */
  verifyDummy(password: string): Promise<void>;
  /** Checks waiting for a slot now (the metrics gauge). */
  queued(): number;
}

/** The hashing queue is full: nothing was checked or changed; the caller answers 503 with Retry-After. */
export class HashingBusyError extends Error {
  readonly code = 'GW_BUSY';
  readonly statusCode = 503;
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('GW_BUSY: password checks are queued beyond their wait limit');
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * At most `slots` hashes at once; the rest wait in order. The expected wait of a newcomer is the queue
 * ahead of it times the recent hash time (a moving average of wall time, which is what it will wait),
 * divided by the slots. Unknown until the first hash completes, so the first ones always queue.
 */
export function limiter(slots: number, maxWaitMs: number) {
  let active = 0;
  let avgMs = 0;
  const queue: Array<() => void> = [];
  const limit = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active < slots) active++;
    else {
      const waitMs = ((queue.length + 1) * avgMs) / slots;
      if (maxWaitMs > 0 && waitMs > maxWaitMs) throw new HashingBusyError(Math.min(30, Math.max(1, Math.ceil(waitMs / 1000))));
      // The slot is handed over by the check that finishes (`active` keeps counting it), so no newcomer
      // can take it in between and run one more than `slots`.
      await new Promise<void>((resolve) => queue.push(resolve));
    }
    const started = performance.now();
    try { return await fn(); } finally {
      const ms = performance.now() - started;
      avgMs = avgMs ? avgMs * 0.9 + ms * 0.1 : ms;
      const next = queue.shift();
      if (next) next(); else active--;
    }
  };
  return Object.assign(limit, { queued: () => queue.length, active: () => active });
}

export function createPasswords(p: PasswordParams): Passwords {
  const opts = { algorithm: 2 /* Algorithm.Argon2id (a const enum, not importable under type stripping) */, memoryCost: p.memoryKiB, timeCost: p.iterations, parallelism: p.parallelism };
  const limit = limiter(Math.max(1, p.slots ?? availableParallelism()), p.maxQueueWaitMs ?? 0);
  let dummy: Promise<string> | undefined;
  const self: Passwords = {
    hash: (password) => limit(() => hash(password, opts)),
    verify: (stored, password) => limit(() => verify(stored, password).catch(() => false)),
    async verifyDummy(password) {
      // Made outside the limiter: a refused first check must not leave a refused promise here.
      dummy ??= hash('gatehouse-dummy-password-for-timing', opts);
      await self.verify(await dummy, password);
    },
    queued: limit.queued,
  };
  return self;
}
