// argon2id password hashing (OWASP parameters by default), off the event loop with bounded concurrency
// so a login flood cannot starve token, JWKS and health requests.
import { hash, verify } from '@node-rs/argon2';
import { availableParallelism } from 'node:os';

export interface PasswordParams { memoryKiB: number; iterations: number; parallelism: number }

export interface Passwords {
  hash(password: string): Promise<string>;
  verify(stored: string, password: string): Promise<boolean>;
  /** Spends the same time as a real verification; used for unknown users so timing tells nothing. */
  verifyDummy(password: string): Promise<void>;
}

function limiter(max: number) {
  let active = 0;
  const queue: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try { return await fn(); } finally { active--; queue.shift()?.(); }
  };
}

export function createPasswords(p: PasswordParams): Passwords {
  const opts = { algorithm: 2 /* Algorithm.Argon2id (a const enum, not importable under type stripping) */, memoryCost: p.memoryKiB, timeCost: p.iterations, parallelism: p.parallelism };
  const limit = limiter(Math.max(1, availableParallelism()));
  let dummy: Promise<string> | undefined;
  const self: Passwords = {
    hash: (password) => limit(() => hash(password, opts)),
    verify: (stored, password) => limit(() => verify(stored, password).catch(() => false)),
    async verifyDummy(password) {
      dummy ??= self.hash('gatehouse-dummy-password-for-timing');
      await self.verify(await dummy, password);
    },
  };
  return self;
}
