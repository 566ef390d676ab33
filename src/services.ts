// The non-HTTP parts, built once and shared by the app and the CLI.
import type { Logger } from 'pino';
import type { Config } from './config/schema.ts';
import { createDb, type Db } from './storage/db.ts';
import { migrate } from './storage/migrate.ts';
import { createSecretBox, type SecretBox } from './platform/secret-box.ts';
import { createSigningKeys, type SigningKeys } from './storage/signing-keys.ts';
import { createUsers, type Users } from './users/users.ts';
import { SEED_JSON, SEED_ROW } from './mfa/totp/totp-store.ts';
import { createPasswords, type Passwords } from './users/passwords.ts';
import { createLoginThrottle, type LoginThrottle } from './security/login-throttle.ts';
import { createAudit, type Audit } from './platform/audit.ts';
import { countAuditEvent, createMetrics, type Metrics } from './platform/metrics.ts';
import { createMfa, type MfaServices } from './mfa/registry.ts';
import type { DuoClient } from './mfa/duo/duo-client.ts';

export interface Services {
  config: Config; log: Logger; db: Db; box: SecretBox; keys: SigningKeys; users: Users;
  passwords: Passwords; throttle: LoginThrottle; audit: Audit; metrics: Metrics; mfa: MfaServices;
}

export interface ServiceOptions {
  db?: Db; migrate?: boolean;
  /** Tests only: a Duo client (e.g. one trusting the emulator). Never selectable through config. */
  duoClient?: DuoClient;
}

/** Opens the database (and migrates it unless told not to). `config.secret` must be resolved already. */
export async function createServices(config: Config, log: Logger, opts: ServiceOptions = {}): Promise<Services> {
  if (!config.secret) throw new Error('GW_ERR_NO_SECRET: the master secret is not set (GATEHOUSE_SECRET)');
  const db = opts.db ?? await createDb({
    url: config.database.url, dataDir: config.dataDir, poolMax: config.database.poolMax,
    connectionTimeoutMs: config.database.connectionTimeoutMs, statementTimeoutMs: config.database.statementTimeoutMs,
  });
  if (opts.migrate !== false) {
    const applied = await migrate(db);
    if (applied.length) log.info({ applied }, 'database migrations applied');
  }
  const box = createSecretBox(config.secret);
  const passwords = createPasswords(config.passwords);
  const metrics = createMetrics(() => db.poolStats(), passwords.queued);
  return {
    config, log, db, box,
    keys: createSigningKeys(db, box),
    // A user read by name comes with its TOTP seed, as with an interaction (protocols/oidc/provider.ts).
    users: createUsers(db, { accountRows: { [SEED_ROW]: SEED_JSON } }),
    passwords,
    throttle: createLoginThrottle(db, config.security),
    audit: createAudit(db, log, (e) => countAuditEvent(metrics, e)),
    metrics,
    mfa: createMfa(config, db, box, metrics, { duoClient: opts.duoClient }),
  };
}
