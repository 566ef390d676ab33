// The last line of the error handler: a value PostgreSQL refuses (a NUL in text or jsonb) is the
// client's mistake, answered 400 with a stable code, even on a route that forgot to screen its input;
// a full password-hashing queue is a 503 with Retry-After; anything else unexpected is a 500 without
// detail. Against real PostgreSQL and PGlite.
import t from 'tap';
import Fastify from 'fastify';
import errorHandler from '../../src/platform/error-handler.ts';
import { HashingBusyError } from '../../src/users/passwords.ts';
import { freshDb, pgAvailable, type DbKind } from '../helpers/db.ts';

const pgUp = await pgAvailable();
for (const kind of ['pg', 'pglite'] as DbKind[]) {
  t.test(`${kind}: a NUL reaching the database is a 400, not a 500`, { skip: kind === 'pg' && !pgUp ? 'PostgreSQL is not reachable' : false }, async (t) => {
    const fresh = await freshDb(kind);
    t.teardown(() => fresh.drop());
    const app = Fastify();
    await app.register(errorHandler, { db: fresh.db, theme: { productName: 'Gatehouse', primaryColor: '#1f5fbf' } as never });
    app.get('/lookup', async (req) => (await fresh.db.query('SELECT $1::text AS v', [(req.query as { q: string }).q])).rows[0]);
    app.get('/json', async (req) => (await fresh.db.query('SELECT $1::jsonb AS v', [JSON.stringify({ q: (req.query as { q: string }).q })])).rows[0]);
    app.get('/boom', async () => { throw new Error('internal detail that must not leak'); });
    app.get('/busy', async () => { throw new HashingBusyError(4); });
    t.teardown(() => app.close());

    const ok = await app.inject({ url: '/lookup?q=fine' });
    t.equal(ok.statusCode, 200);
    for (const url of ['/lookup?q=a%00b', '/json?q=a%00b']) {
      const res = await app.inject({ url });
      t.equal(res.statusCode, 400, `${kind} ${url}: 400`);
      t.match(res.json(), { error: 'invalid_request', code: 'GW_BAD_REQUEST' });
    }
    const boom = await app.inject({ url: '/boom', headers: { accept: 'text/html' } });
    t.equal(boom.statusCode, 500);
    t.notMatch(boom.body, /internal detail/, 'no internal detail in the page');
    t.match(boom.body, /GW_INTERNAL/);
    // A full password-hashing queue, wherever a route lets it through: 503 with its Retry-After.
    const busy = await app.inject({ url: '/busy' });
    t.equal(busy.statusCode, 503);
    t.equal(busy.headers['retry-after'], '4');
    t.match(busy.json(), { error: 'temporarily_unavailable', code: 'GW_BUSY' });
    const busyPage = await app.inject({ url: '/busy', headers: { accept: 'text/html' } });
    t.equal(busyPage.statusCode, 503);
    t.match(busyPage.body, /Many people are signing in right now/);
  });
}
