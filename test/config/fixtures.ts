// Shared by the config tests: load and capture the problem list.
import { loadConfig, ConfigError, type LoadOptions } from '../../src/config/load.ts';

/** A master secret that passes validation. */
export const SECRET = 'fixture-master-secret-0123456789-abcdefghij';

/** The ConfigError's problems; fails loudly when loading succeeds or throws anything else. */
export function problemsOf(opts: LoadOptions): string[] {
  try {
    loadConfig(opts);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError, but the configuration loaded');
}

/** The full ConfigError message (what start-up prints). */
export function messageOf(opts: LoadOptions): string {
  try { loadConfig(opts); } catch (err) { if (err instanceof ConfigError) return err.message; throw err; }
  throw new Error('expected a ConfigError, but the configuration loaded');
}
