import type { FastifyInstance } from 'fastify';
import { BASE_CSS, themeCss } from './assets.ts';
import type { Theme } from './layout.ts';

export default async function assets(app: FastifyInstance, opts: { theme: Theme }) {
  const theme = themeCss(opts.theme);
  const css = (body: string) => async (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(body);
  app.get('/assets/gatehouse.css', css(BASE_CSS));
  app.get('/assets/theme.css', css(theme));
}
