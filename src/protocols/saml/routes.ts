// The SAML endpoints (DESIGN.md public contract): /saml/metadata, /saml/sso (Redirect + POST),
// /saml/continue (the OIDC pipeline's return), /saml/init (IdP-initiated), /saml/slo, and the static
// auto-post script. An encapsulated plugin: its body parser (form posts only, size-capped) and error
// handler (stable GW_SAML_* pages, never a stack) apply to these routes alone.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { revokeReplayedGrant } from '../../storage/oidc-adapter.ts';
import { requestUnits } from '../../platform/request-unit.ts';
import { currentUnit, discardUnit } from '../../storage/unit-of-work.ts';
import { PATHS } from './constants.ts';
import { endpointUrl, type Answer, type SamlContext } from './context.ts';
import { SamlError } from './errors.ts';
import { sendMetadata } from './metadata-route.ts';
import { readQuery, SAML_PARAMS, type WireMessage } from './request-guard.ts';
import { createSlo } from './slo.ts';
import { createSso, type Browser } from './sso.ts';
import { RESENT_FIELD, shouldResend } from './first-party-resend.ts';
import { autoPostPage, POST_SCRIPT, samlErrorPage } from './views.ts';

const COOKIE = 'gh_saml';
const COOKIE_RE = /(?:^|;\s*)gh_saml=([A-Za-z0-9_-]{43})(?:;|$)/;

interface FormBody { fields: Record<string, string>; duplicate?: string; resent?: boolean }

/** What a request whose one-time statement lost at its commit answers instead (store.ts, bridge.ts). */
const LOST: Record<string, { code: 'GW_SAML_REPLAY' | 'GW_SAML_EXPIRED' | 'GW_SAML_AUTHN_FAILED' | 'GW_SAML_UNEXPECTED_RESPONSE'; detail: string }> = {
  saml_seen_ids: { code: 'GW_SAML_REPLAY', detail: 'message ID used by a request that committed first' },
  saml_requests: { code: 'GW_SAML_EXPIRED', detail: 'parked request taken by a request that committed first' },
  saml_logouts: { code: 'GW_SAML_UNEXPECTED_RESPONSE', detail: 'logout step taken by a request that committed first' },
  AuthorizationCode: { code: 'GW_SAML_AUTHN_FAILED', detail: 'code redeemed by a request that committed first' },
};

export default async function samlRoutes(app: FastifyInstance, c: SamlContext) {
  const theme = c.s.config.ui;
  const cfg = c.s.config.saml;
  const sso = createSso(c);
  const slo = createSlo(c);
  const secure = c.issuer.startsWith('https:') ? '; Secure' : '';

  // Only form posts, and only as large as the largest message allowed (base64 grows it by a third).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: Math.ceil(cfg.maxMessageBytes / 3) * 4 + cfg.maxRelayStateBytes * 3 + 4096 },
    (_req, body, done) => {
      const out: FormBody = { fields: {} };
      for (const [k, v] of new URLSearchParams(body as string)) {
        if (k === RESENT_FIELD) { out.resent = true; continue; }
        if (!SAML_PARAMS.has(k)) continue;
        if (k in out.fields) out.duplicate = k;
        out.fields[k] = v;
      }
      done(null, out);
    });

  // One durable commit per SSO and SLO request (storage/unit-of-work.ts, through platform/request-unit.ts, as the interaction screens): the parked
  // request, the SP session and the audit row are queued, and the one-time statements — the message ID's
  // first use, the parked request's take, the code's consume — head that commit, made in onSend, before a
  // byte of the answer leaves (another instance may continue the login at once). When one of them lost to a
  // parallel request, the commit rolls back and the answer that was built (a redirect, a signed Response)
  // is replaced by the error page; a loser's error answer stays as it was, nothing of it committed.
  const inUnit = requestUnits(app, {
    deferConsume: true,
    // A code redeemed twice revokes its grant's tokens, as on the token endpoint; SAML rows need nothing.
    onLost: async (q, lost) => { if (!lost.model.startsWith('saml_')) await revokeReplayedGrant(q, lost.model, lost.id); },
    whenLost: (reply, lost) => {
      if (reply.statusCode >= 400) return;
      const why = LOST[lost.model] ?? LOST.AuthorizationCode!;
      throw new SamlError(why.code, why.detail);
    },
  });

  app.setErrorHandler(async (err: Error & { code?: string; statusCode?: number }, req, reply) => {
    let e: SamlError;
    if (err instanceof SamlError) e = err;
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') e = new SamlError('GW_SAML_TOO_LARGE', 'body larger than the limit');
    else if (err.code?.startsWith('FST_ERR_CTP') || (err.statusCode && err.statusCode < 500)) e = new SamlError('GW_SAML_MALFORMED', err.code ?? err.message);
    else throw err; // database outages and bugs: the app's handler answers 503/500 without detail
    const level = e.http >= 500 ? 'error' : 'warn';
    req.log[level]({ event: e.code, samlError: e.code, detail: e.detail }, `saml request refused: ${e.code}`);
    if (e.http === 503) reply.header('retry-after', '5');
    reply.removeHeader('location'); // a redirect built before its commit lost (onSend above)
    return reply.code(e.http).header('cache-control', 'no-store').type('text/html; charset=utf-8')
      .send(samlErrorPage(theme, { code: e.code, message: e.publicMessage, requestId: req.id }));
  });

  /** The browser-binding cookie's MAC; `create` sets the cookie when the browser has none. */
  function browserKey(req: FastifyRequest, reply: FastifyReply, create: boolean): string | undefined {
    let value = COOKIE_RE.exec(req.headers.cookie ?? '')?.[1];
    if (!value && create) {
      value = randomBytes(32).toString('base64url');
      reply.header('set-cookie', `${COOKIE}=${value}; Path=/saml; HttpOnly; SameSite=Lax; Max-Age=86400${secure}`);
    }
    return value ? c.s.box.mac('saml-browser', value) : undefined;
  }

  /** The browser behind a login request, for sso.ts (its binding key, set as a cookie when new). */
  const browserOf = (req: FastifyRequest, reply: FastifyReply): Browser => ({
    key: browserKey(req, reply, true)!, cookie: req.headers.cookie, ip: req.ip,
    userAgent: req.headers['user-agent'], acceptLanguage: req.headers['accept-language'],
  });

  function send(reply: FastifyReply, a: Answer) {
    reply.header('cache-control', 'no-store');
    for (const cookie of a.cookies ?? []) reply.header('set-cookie', cookie);
    if (a.kind === 'redirect') return reply.code(303).redirect(a.url, 303);
    const body = a.kind === 'post' ? autoPostPage(theme, { action: a.action, fields: a.fields, spName: a.spName }) : a.html;
    return reply.code(a.kind === 'post' ? 200 : a.status).type('text/html; charset=utf-8').send(body);
  }

  function wireOf(req: FastifyRequest): WireMessage {
    if (req.method === 'GET') return readQuery(req.raw.url ?? '');
    const body = req.body as FormBody | undefined;
    if (!body?.fields) throw new SamlError('GW_SAML_MALFORMED', 'no form body');
    if (body.duplicate) throw new SamlError('GW_SAML_MALFORMED', `${body.duplicate} given twice`);
    return { binding: 'post', fields: body.fields };
  }

  app.get(PATHS.metadata, async (_req, reply) =>
    sendMetadata(reply, { entityId: c.idpEntityId, issuer: c.issuer, keys: c.keys, validSeconds: cfg.metadataValidSeconds, sign: cfg.signMetadata }));

  app.get(PATHS.postScript, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(POST_SCRIPT));

  app.get(PATHS.sso, inUnit(async (req, reply) => send(reply, await sso.start(wireOf(req), browserOf(req, reply)))));
  app.post(PATHS.sso, inUnit(async (req, reply) => {
    const wire = wireOf(req);
    if (shouldResend(c.issuer, req.headers, (req.body as FormBody).resent === true)) {
      // A cross-site post hides the session cookie: sent again from the gateway's own page, it carries it
      // (first-party-resend.ts). Checked first, so that only a sound request makes the trip; nothing is written.
      const unit = currentUnit()!;
      let sp;
      try { sp = await sso.check(wire); } finally { discardUnit(unit); } // a refusal claims no message ID either
      return send(reply, { kind: 'post', action: endpointUrl(c, PATHS.sso), spName: sp.name, fields: { ...wire.fields, [RESENT_FIELD]: '1' } });
    }
    return send(reply, await sso.start(wire, browserOf(req, reply)));
  }));

  app.get(PATHS.continue, inUnit(async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const pick = (k: string) => (typeof q[k] === 'string' ? q[k] : undefined);
    return send(reply, await sso.finish({ code: pick('code'), state: pick('state'), error: pick('error'), iss: pick('iss') }, browserKey(req, reply, false)));
  }));

  app.get(PATHS.init, inUnit(async (req, reply) => {
    const sp = (req.query as Record<string, unknown>).sp;
    if (typeof sp !== 'string' || !sp) throw new SamlError('GW_SAML_UNKNOWN_SP', 'no sp parameter');
    return send(reply, await sso.startIdpInitiated(sp, browserOf(req, reply)));
  }));

  const sloHandler = inUnit(async (req, reply) => send(reply, await slo.handle(wireOf(req))));
  app.get(PATHS.slo, sloHandler);
  app.post(PATHS.slo, sloHandler);
}
