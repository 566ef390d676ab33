// Loopback Duo Universal Prompt emulator (protocol doc §12) that the unmodified
// @duosecurity/duo_universal SDK can talk to: health_check, authorize and token
// over TLS with a throw-away CA, Duo's checks and error bodies, scripted
// outcomes, clock skew and fault injection.
import https from 'node:https';
import { randomBytes, randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { JtiCache, verifyAuthorizeRequest, verifyClientAssertion } from './assertions.ts';
import {
  CLIENT_ASSERTION_TYPE,
  healthFailBody,
  methodNotAllowedBody,
  notFoundBody,
  tokenErrors,
} from './errors.ts';
import type { OAuthError } from './errors.ts';
import { readParams, redirect, sendJson, sendPage, withParams } from './http.ts';
import { ID_TOKEN_TTL, signIdToken } from './id-token.ts';
import type { AuthRecord, Decision } from './id-token.ts';
import { errorPage, noRedirectPage, promptPage } from './pages.ts';
import { createTestCa } from './test-ca.ts';
import type { DuoEmulator, DuoEmulatorOptions, EmulatorApp, Fault, Outcome, RequestLogEntry } from './types.ts';

export type { DuoEmulator, DuoEmulatorOptions, EmulatorApp, Fault, Outcome, RequestLogEntry } from './types.ts';

const HEALTH = '/oauth/v1/health_check';
const AUTHORIZE = '/oauth/v1/authorize';
const TOKEN = '/oauth/v1/token';
// Prompt paths mirror real Duo's (not a contract, see §12.2).
const PROMPT = '/frame/frameless/v4/auth';
const EXIT = '/frame/v4/oidc/exit';
const PROMPT_TTL = 600;
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM = `${UPPER_ALNUM}abcdefghijklmnopqrstuvwxyz`;
const randomString = (n: number, alphabet: string) =>
  Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');

/** A validated authorize request waiting for its outcome. */
interface Transaction {
  clientId: string;
  redirectUri: string;
  state: string;
  duoUname: string;
  nonce: string | undefined;
  useDuoCode: boolean;
  accessIp: string | null;
}

interface CodeRecord extends AuthRecord {
  redirectUri: string;
  createdAt: number;
  used: boolean;
}

function defaultApp(): EmulatorApp {
  // Duo client ids look like DI + 18 upper-case alphanumerics.
  return { clientId: `DI${randomString(18, UPPER_ALNUM)}`, clientSecret: randomString(40, ALNUM) };
}

export async function startDuoEmulator(opts: DuoEmulatorOptions = {}): Promise<DuoEmulator> {
  const apps = opts.apps?.length ? opts.apps : [defaultApp()];
  for (const a of apps) {
    // The SDK refuses other lengths, so a mistake here would only surface later as a confusing error.
    if (a.clientId.length !== 20) throw new Error(`Duo emulator: clientId must be 20 chars (${a.clientId})`);
    if (a.clientSecret.length !== 40) throw new Error(`Duo emulator: clientSecret of ${a.clientId} must be 40 chars`);
  }
  const appById = new Map(apps.map((a) => [a.clientId, a]));
  const findApp = (id: string) => appById.get(id);
  const host = opts.host ?? '127.0.0.1';
  const hostname = opts.hostname ?? 'localhost';
  const codeTtl = opts.codeTtlSeconds ?? 300;
  const initialDefault: Outcome = opts.defaultOutcome ?? 'allow';
  const tls = await createTestCa();

  let defaultOutcome = initialDefault;
  let fault: Fault | null = null;
  let clockOffset = 0;
  let closed = false;
  let relisten: Promise<void> | null = null;
  const outcomes = new Map<string, Outcome>();
  const factors = new Map<string, string>();
  const codes = new Map<string, CodeRecord>();
  const prompts = new Map<string, { tx: Transaction; expires: number }>();
  const jtis = new JtiCache();
  const sockets = new Set<Socket>();
  const requests: RequestLogEntry[] = [];

  /** Emulator clock in (fractional) seconds; every issue and check uses it. */
  const now = () => Date.now() / 1000 + clockOffset;

  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => void handle(req, res));
  server.on('connection', (s: Socket) => {
    if (closed || fault === 'down') return void s.destroy();
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const apiHost = `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
  const issuerBase = `https://${apiHost}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // URL.parse never throws: a malformed request line must not crash the process.
    const url = URL.parse(req.url ?? '/', issuerBase) ?? new URL('/__invalid__', issuerBase);
    const entry: RequestLogEntry = { method: req.method ?? '', path: url.pathname, at: Date.now(), status: 0 };
    requests.push(entry);
    res.once('close', () => opts.onRequest?.(entry));
    try {
      if (fault === 'hang') {
        entry.error = 'fault: hang';
        return; // never answered; close() destroys the socket
      }
      await route(req, res, url, entry);
    } catch (err) {
      entry.error = `internal: ${(err as Error).message}`;
      if (!res.headersSent) sendJson(res, 500, { stat: 'FAIL', code: 50000, message: 'Internal error' });
      else res.destroy();
    }
    // Recorded as soon as the handler has answered, i.e. before the client can
    // have read the response, so a test may inspect the log right away.
    if (res.headersSent) entry.status = res.statusCode;
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, entry: RequestLogEntry) {
    switch (url.pathname) {
      case HEALTH:
        return healthCheck(req, res, url, entry);
      case TOKEN:
        return token(req, res, url, entry);
      case AUTHORIZE:
        return authorize(req, res, url, entry);
      case PROMPT:
        return showPrompt(req, res, url, entry);
      case EXIT:
        return promptExit(req, res, url, entry);
      default:
        return sendJson(res, 404, notFoundBody(url.pathname, now()));
    }
  }

  /** http500 / bad_json on the two server-to-server endpoints. */
  function apiFault(res: ServerResponse, entry: RequestLogEntry): boolean {
    if (fault === 'http500') {
      entry.error = 'fault: http500';
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<html><body><h1>500 Internal Server Error</h1></body></html>');
      return true;
    }
    if (fault === 'bad_json') {
      entry.error = 'fault: bad_json';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"stat": "OK", "respo');
      return true;
    }
    return false;
  }

  async function healthCheck(req: IncomingMessage, res: ServerResponse, url: URL, entry: RequestLogEntry) {
    if (req.method !== 'POST') return sendJson(res, 405, methodNotAllowedBody(req.method ?? '', now()));
    const p = await readParams(req, url);
    entry.clientId = p.get('client_id') ?? undefined;
    if (apiFault(res, entry)) return;
    const r = await verifyClientAssertion({
      assertion: p.get('client_assertion'),
      clientIdParam: p.get('client_id'),
      audience: issuerBase + HEALTH,
      now: now(),
      findApp,
      jtis: opts.replayCheckJti === false ? null : jtis,
    });
    if (!r.ok) {
      entry.error = `invalid_client (${r.check}: ${r.detail})`;
      return sendJson(res, 400, healthFailBody(now()));
    }
    sendJson(res, 200, { stat: 'OK', response: { timestamp: Math.floor(now()) } });
  }

  async function token(req: IncomingMessage, res: ServerResponse, url: URL, entry: RequestLogEntry) {
    if (req.method !== 'POST') return sendJson(res, 405, methodNotAllowedBody(req.method ?? '', now()));
    const p = await readParams(req, url);
    entry.clientId = p.get('client_id') ?? undefined;
    if (apiFault(res, entry)) return;
    const reject = (check: string, detail: string, body: OAuthError) => {
      entry.error = `${body.error} (${check}: ${detail})`;
      sendJson(res, 400, body, NO_STORE);
    };

    if (p.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE)
      return reject('A10', 'wrong client_assertion_type', tokenErrors.assertionType);
    const t = now();
    const a = await verifyClientAssertion({
      assertion: p.get('client_assertion'),
      clientIdParam: p.get('client_id'),
      audience: issuerBase + TOKEN,
      now: t,
      findApp,
      jtis: opts.replayCheckJti === false ? null : jtis,
    });
    if (!a.ok) return reject(a.check, a.detail, a.issMismatch ? tokenErrors.issMismatch : tokenErrors.invalidClient);
    if (p.get('grant_type') !== 'authorization_code') return reject('T1', 'grant_type', tokenErrors.grantType);
    const redirectUri = p.get('redirect_uri') ?? '';
    if (redirectUri.length < 1 || redirectUri.length > 256)
      return reject('T4', 'redirect_uri length', tokenErrors.redirectUriLength);
    const rec = codes.get(p.get('code') ?? '');
    // A code of another client is not burned: that client never owned it.
    if (!rec || rec.clientId !== a.clientId) return reject('T2', 'unknown code', tokenErrors.invalidGrant);
    if (rec.used) return reject('T3', 'code already used', tokenErrors.invalidGrant);
    rec.used = true; // burned by any attempt from its client, even a failing one (like real OAuth servers)
    if (t > rec.createdAt + codeTtl) return reject('T2', 'code expired', tokenErrors.invalidGrant);
    if (rec.redirectUri !== redirectUri) return reject('T4', 'redirect_uri mismatch', tokenErrors.invalidGrant);

    let secret = appById.get(a.clientId)!.clientSecret;
    if (fault === 'wrong_signing_key') {
      secret = randomString(40, ALNUM);
      entry.warning = 'fault: wrong_signing_key';
    }
    let subject = rec;
    if (fault === 'wrong_username') {
      // A correctly signed id_token for someone else: only the SDK's username check can catch it.
      subject = { ...rec, duoUname: `${rec.duoUname}-other` };
      entry.warning = 'fault: wrong_username';
    }
    sendJson(
      res,
      200,
      {
        id_token: await signIdToken(subject, issuerBase, t, secret),
        access_token: randomBytes(20).toString('hex'),
        expires_in: ID_TOKEN_TTL,
        token_type: 'Bearer',
      },
      NO_STORE,
    );
  }

  /** Issues a code for `decision` and returns the callback URL. */
  function codeRedirect(tx: Transaction, decision: Decision): string {
    const t = now();
    for (const [c, r] of codes) if (t - r.createdAt > codeTtl) codes.delete(c);
    const code = randomBytes(16).toString('hex');
    // Bypass users never see a prompt, so no factor was used ([UNVERIFIED] value).
    const factor = decision === 'bypass' ? 'not_available' : (factors.get(tx.duoUname) ?? 'duo_push');
    codes.set(code, { ...tx, decision, factor, authTime: t, createdAt: t, used: false });
    return withParams(tx.redirectUri, { [tx.useDuoCode ? 'duo_code' : 'code']: code, state: tx.state });
  }

  const errorRedirect = (tx: Transaction, description: string) =>
    withParams(tx.redirectUri, { error: 'access_denied', error_description: description, state: tx.state });

  async function authorize(req: IncomingMessage, res: ServerResponse, url: URL, entry: RequestLogEntry) {
    if (req.method !== 'GET') return sendPage(res, 405, errorPage('Method not allowed'));
    entry.clientId = url.searchParams.get('client_id') ?? undefined;
    const t = now();
    const r = await verifyAuthorizeRequest(url.searchParams, t, issuerBase, findApp);
    if (!r.ok) {
      // Never redirect here: the redirect_uri is untrusted until the request JWT verifies.
      entry.error = `${r.check}: ${r.detail}`;
      return sendPage(res, 400, errorPage(`${r.check}: ${r.detail}`));
    }
    const rq = r.request;
    if (rq.warning) entry.warning = rq.warning;
    const tx: Transaction = {
      clientId: rq.app.clientId,
      redirectUri: rq.redirectUri,
      state: rq.state,
      duoUname: rq.duoUname,
      nonce: rq.nonce,
      useDuoCode: rq.useDuoCode,
      accessIp: req.socket.remoteAddress ?? null,
    };
    const outcome = outcomes.get(rq.duoUname) ?? defaultOutcome;
    switch (outcome) {
      case 'allow':
      case 'deny':
      case 'fraud':
      case 'bypass':
        return redirect(res, codeRedirect(tx, outcome));
      case 'error_redirect':
        return redirect(res, errorRedirect(tx, 'The user was denied access.'));
      case 'no_redirect':
        return sendPage(res, 200, noRedirectPage(tx.duoUname));
      case 'interactive': {
        const sid = randomBytes(16).toString('hex');
        prompts.set(sid, { tx, expires: t + PROMPT_TTL });
        return redirect(res, `${issuerBase}${PROMPT}?sid=${sid}`);
      }
    }
  }

  function livePrompt(sid: string) {
    const p = prompts.get(sid);
    if (!p) return undefined;
    if (now() > p.expires) {
      prompts.delete(sid);
      return undefined;
    }
    return p;
  }

  function showPrompt(req: IncomingMessage, res: ServerResponse, url: URL, entry: RequestLogEntry) {
    if (req.method !== 'GET') return sendPage(res, 405, errorPage('Method not allowed'));
    const sid = url.searchParams.get('sid') ?? '';
    const p = livePrompt(sid);
    if (!p) {
      entry.error = 'prompt: unknown or expired sid';
      return sendPage(res, 400, errorPage('This login request has expired. Start again.'));
    }
    entry.clientId = p.tx.clientId;
    const origin = new URL(p.tx.redirectUri).origin;
    sendPage(
      res,
      200,
      promptPage({
        sid,
        username: p.tx.duoUname,
        clientId: p.tx.clientId,
        exitPath: EXIT,
        redirectOrigin: origin === 'null' ? undefined : origin,
      }),
    );
  }

  async function promptExit(req: IncomingMessage, res: ServerResponse, url: URL, entry: RequestLogEntry) {
    if (req.method !== 'POST') return sendPage(res, 405, errorPage('Method not allowed'));
    const params = await readParams(req, url);
    const sid = params.get('sid') ?? '';
    const p = livePrompt(sid);
    const action = params.get('action');
    if (!p || (action !== 'approve' && action !== 'deny' && action !== 'cancel')) {
      entry.error = p ? 'prompt: bad action' : 'prompt: unknown or expired sid';
      return sendPage(res, 400, errorPage('This login request has expired. Start again.'));
    }
    entry.clientId = p.tx.clientId;
    prompts.delete(sid); // single use: a second click cannot mint a second code
    if (action === 'cancel') return redirect(res, errorRedirect(p.tx, 'The user cancelled the authentication.'));
    redirect(res, codeRedirect(p.tx, action === 'approve' ? 'allow' : 'deny'));
  }

  /** `down` closes the listener so clients get ECONNREFUSED, like a dead host. */
  function goDown() {
    if (server.listening) server.close();
    for (const s of sockets) s.destroy();
  }
  function goUp() {
    if (closed || server.listening || relisten) return;
    relisten = listen(port)
      .catch((err: Error) => console.error(`duo-emulator: cannot listen again on ${port}: ${err.message}`))
      .finally(() => {
        relisten = null;
      });
  }

  const emulator: DuoEmulator = {
    apiHost,
    caPem: tls.caPem,
    clientId: apps[0]!.clientId,
    clientSecret: apps[0]!.clientSecret,
    requests,
    setOutcome: (username, outcome) => void outcomes.set(username, outcome),
    setDefaultOutcome: (outcome) => {
      defaultOutcome = outcome;
    },
    setFault: (f) => {
      fault = f;
      if (f === 'down') goDown();
      else goUp();
    },
    setClockOffset: (seconds) => {
      clockOffset = seconds;
    },
    setFactor: (username, factor) => void factors.set(username, factor),
    reset: () => {
      outcomes.clear();
      factors.clear();
      codes.clear();
      prompts.clear();
      jtis.clear();
      requests.length = 0; // in place: callers may hold a reference to the array
      defaultOutcome = initialDefault;
      clockOffset = 0;
      emulator.setFault(null);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await relisten;
      for (const s of sockets) s.destroy(); // includes requests held by `hang`
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return emulator;
}
