import type { FastifyInstance } from 'fastify';
import { BASE_CSS, themeCss } from './assets.ts';
import type { Theme } from './layout.ts';
import { logoOf } from './logo.ts';

export default async function assets(app: FastifyInstance, opts: { theme: Theme }) {
  const theme = themeCss(opts.theme);
  // Read (and checked) now, at start, rather than on the first page: every page inlines it.
  if (opts.theme.logoFile) logoOf(opts.theme.logoFile);
  const css = (body: string) => async (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(body);
  app.get('/assets/gatehouse.css', css(BASE_CSS));
  app.get('/assets/theme.css', css(theme));
  // Browsers ask for it on every first visit; "no icon" is an answer, not a 404 in the log.
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());
}
