// `gatehouse keys rotate|list`: the token signing keys shared by every instance.
import type { Queryable } from '../../storage/db.ts';
import type { Command } from '../command.ts';
import { formatTable, isoSeconds } from '../table.ts';

interface KeyRow { kid: string; purpose: string; alg: string; createdAt: Date; retiredAt: Date | null; unpublishAt: Date | null }

// Metadata only (no private parts). Candidate for a list() in storage/signing-keys.ts.
async function listKeys(db: Queryable): Promise<KeyRow[]> {
  return (await db.query<KeyRow>(`SELECT kid, purpose, alg, created_at AS "createdAt", retired_at AS "retiredAt", unpublish_at AS "unpublishAt"
    FROM signing_keys ORDER BY purpose, (retired_at IS NOT NULL), created_at DESC, alg`)).rows;
}

function status(k: KeyRow, now: Date): string {
  if (!k.retiredAt) return 'current';
  if (k.unpublishAt && new Date(k.unpublishAt) > now) return `retired, published until ${isoSeconds(new Date(k.unpublishAt))}`;
  return 'retired, no longer published';
}

export const keysRotateCommand: Command = {
  name: 'keys rotate',
  summary: 'Create new OIDC signing keys; the previous ones stay published for a grace period',
  details: 'New tokens are signed with the new keys at once (running instances notice within seconds).\n' +
    'The previous keys stay in the JWKS for oidc.keyRotationGraceSeconds, so tokens they signed still verify.',
  async run(ctx) {
    const { config, services } = await ctx.open();
    const grace = config.oidc.keyRotationGraceSeconds;
    const kids = await services.keys.rotate(grace);
    await services.audit.record({ type: 'keys.rotate', outcome: 'success', detail: { via: 'cli', kids } });
    const keys = await listKeys(services.db);
    ctx.out('New current keys:');
    for (const k of keys.filter((k) => kids.includes(k.kid))) ctx.out(`  ${k.kid}  ${k.alg}`);
    // Every retired key still in the JWKS: the ones just retired, and any from earlier rotations.
    const retired = keys.filter((k) => k.purpose === 'oidc' && k.unpublishAt && new Date(k.unpublishAt) > new Date());
    if (retired.length === 0) {
      ctx.out('No previous keys: these are the first OIDC signing keys.');
      return;
    }
    ctx.out(`Retired keys stay published (oidc.keyRotationGraceSeconds = ${grace}):`);
    for (const k of retired) ctx.out(`  ${k.kid}  ${k.alg}  until ${isoSeconds(new Date(k.unpublishAt!))}`);
  },
};

export const keysListCommand: Command = {
  name: 'keys list',
  summary: 'List signing keys: kid, algorithm, current or retired (and until when published)',
  async run(ctx) {
    const { services } = await ctx.open();
    const keys = await listKeys(services.db);
    if (keys.length === 0) {
      ctx.note('No signing keys yet: the gateway creates them when it first starts (or run `npx gatehouse keys rotate`).');
      return;
    }
    const now = new Date();
    const rows = keys.map((k) => [k.kid, k.purpose, k.alg, isoSeconds(new Date(k.createdAt)), status(k, now)]);
    for (const line of formatTable(['KID', 'PURPOSE', 'ALG', 'CREATED', 'STATUS'], rows)) ctx.out(line);
  },
};
