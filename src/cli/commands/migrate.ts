// `gatehouse migrate`: applies pending database migrations (opening the database already does).
import { listMigrations } from '../../storage/migrate.ts';
import type { Command } from '../command.ts';

const label = (m: { version: number; name: string }) => `${String(m.version).padStart(3, '0')}_${m.name}`;

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Apply pending database migrations',
  details: 'Safe to run at any time and from several places at once: migrations run under a lock, and each is\n' +
    'applied once. The gateway also applies them when it starts.',
  async run(ctx) {
    const { applied, services } = await ctx.open();
    const where = services.db.kind === 'pg' ? 'PostgreSQL' : 'embedded PGlite';
    if (applied.length) {
      ctx.out(`Applied ${applied.length} migration${applied.length === 1 ? '' : 's'} (${where}):`);
      for (const m of applied) ctx.out(`  ${label(m)}`);
    } else {
      const latest = listMigrations().at(-1);
      ctx.out(`Database is up to date (${where}${latest ? `, latest migration ${label(latest)}` : ''}).`);
    }
  },
};
