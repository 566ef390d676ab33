// The library floor: bare oidc-provider on its own Koa server, with the configuration of bare-config.ts
// (built-in memory adapter, one static client, a JWT ES256 access token). Bench-only.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';
import Fastify from 'fastify';
import { serveRpc, emit } from '../lib/proc.ts';
import { profilerRpc } from '../lib/profile.ts';
import { bareConfiguration } from './bare-config.ts';

const port = Number(process.argv[2]);
// Optional TLS listener (same handler) for the new-connection-per-grant comparison.
const [tlsPort, keyFile, certFile] = [Number(process.argv[3] ?? 0), process.argv[4], process.argv[5]];
// 'fastify': the same provider mounted the way the gateway mounts it (src/protocols/oidc/mount.ts: a
// pass-through body parser, reply.hijack(), provider.callback()) and nothing else — the mounting's own cost.
const inFastify = process.argv[6] === 'fastify';
const issuer = `http://127.0.0.1:${port}`;
const { configuration } = bareConfiguration(issuer);
const provider = new Provider(issuer, configuration);
let server: { close(): unknown };
if (inFastify) {
  const app = Fastify({ logger: false });
  const callback = provider.callback();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  app.all('/*', async (req, reply) => { reply.hijack(); await callback(req.raw, reply.raw); });
  await app.listen({ host: '127.0.0.1', port });
  server = app.server;
} else {
  const s = provider.listen(port, '127.0.0.1');
  await new Promise<void>((r) => s.once('listening', () => r()));
  server = s;
}
let tls: https.Server | undefined;
if (tlsPort && keyFile && certFile) {
  tls = https.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, provider.callback());
  await new Promise<void>((r) => tls!.listen(tlsPort, '127.0.0.1', r));
}

serveRpc({
  memory: () => process.memoryUsage(),
  info: () => ({ issuer, pid: process.pid }),
  ...profilerRpc(),
}, async () => { server.close(); tls?.close(); });
emit({ event: 'ready', port, issuer });
