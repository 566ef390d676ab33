// The enabled factors, in the order config.mfa.factors lists them, with recovery codes last.
// Adding a factor: a folder under src/mfa/, one entry in BUILDERS, one config section.
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import type { Db } from '../storage/db.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { MfaFactor } from './factor.ts';
import { createTotpStore, type TotpStore } from './totp/totp-store.ts';
import { createTotpFactor } from './totp/totp-factor.ts';
import { createRecoveryCodes, type RecoveryCodes } from './recovery/recovery-codes.ts';
import { createRecoveryFactor } from './recovery/recovery-factor.ts';
import { createChallenges, type Challenges } from './challenges.ts';
import { createSdkDuoClient, type DuoClient } from './duo/duo-client.ts';
import { createDuoHealth, type DuoHealth } from './duo/duo-health.ts';
import { createDuoFactor } from './duo/duo-factor.ts';
import { instrumentDuoClient } from './duo/duo-metrics.ts';
import { createBypassCodes, type BypassCodes } from './bypass/bypass-codes.ts';
import { createBypassFactor } from './bypass/bypass-factor.ts';

export interface MfaServices {
  /** Enabled factors in display order (recovery, then the admin bypass code, last). */
  factors: MfaFactor[];
  byId(id: string): MfaFactor | undefined;
  totp: TotpStore; recovery: RecoveryCodes; challenges: Challenges; bypass: BypassCodes;
  duo?: { client: DuoClient; health: DuoHealth };
}

export interface MfaOverrides { duoClient?: DuoClient }

export function createMfa(config: Config, db: Db, box: SecretBox, metrics: Metrics, o: MfaOverrides = {}): MfaServices {
  const totp = createTotpStore(db, box);
  const recovery = createRecoveryCodes(db, box);
  const challenges = createChallenges(db);
  const bypass = createBypassCodes(db, box);
  let duo: MfaServices['duo'];
  const BUILDERS: Record<string, () => MfaFactor> = {
    totp: () => createTotpFactor(totp),
    duo: () => {
      const d = config.mfa.duo;
      const raw = o.duoClient ?? createSdkDuoClient({
        clientId: d.clientId!, clientSecret: d.clientSecret!, apiHost: d.apiHost!, timeoutMs: d.timeoutMs,
        caPem: d.caFile ? readFileSync(d.caFile, 'utf8') : undefined,
      });
      const client = instrumentDuoClient(raw, metrics);
      const health = createDuoHealth(client, d.healthCacheSeconds);
      duo = { client, health };
      return createDuoFactor(client, health, d);
    },
  };
  const factors = config.mfa.factors.map((id) => BUILDERS[id]!());
  if (config.mfa.factors.includes('totp')) factors.push(createRecoveryFactor(recovery));
  // Always present but only offered while the user holds an admin-issued code (whatever factors are enabled).
  factors.push(createBypassFactor(bypass));
  return { factors, byId: (id) => factors.find((f) => f.id === id), totp, recovery, challenges, bypass, duo };
}
