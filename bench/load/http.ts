// A small HTTP client for the load generator: keep-alive connections (one pool per target), or a new TLS
// connection per request (Keycloak's method: each client makes a single request), plus a path-aware
// cookie jar for browser-like login flows.
import http from 'node:http';
import https from 'node:https';

export interface Res { status: number; headers: http.IncomingHttpHeaders; body: string }
export type Transport = 'keepalive' | 'tls-per-request';

export interface ClientOptions { base: string; transport?: Transport; maxSockets?: number }

export class HttpClient {
  readonly base: URL;
  private agent: http.Agent | false;
  private mod: typeof http | typeof https;
  private tlsPerRequest: boolean;
  constructor(o: ClientOptions) {
    this.base = new URL(o.base);
    this.tlsPerRequest = o.transport === 'tls-per-request';
    const isTls = this.base.protocol === 'https:';
    this.mod = isTls ? https : http;
    // A fresh agent per request (agent: false) keeps no TLS session cache: every request is a full handshake.
    this.agent = this.tlsPerRequest ? false
      : isTls ? new https.Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 256, rejectUnauthorized: false })
        : new http.Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 256 });
  }

  request(method: string, path: string, o: { headers?: Record<string, string>; body?: string } = {}): Promise<Res> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...o.headers };
      if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body));
      if (this.tlsPerRequest) headers.connection = 'close';
      const req = this.mod.request({
        host: this.base.hostname, port: this.base.port, method, path, headers, agent: this.agent,
        ...(this.base.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(o.body);
    });
  }

  form(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Res> {
    return this.request('POST', path, { body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  }

  close() { if (this.agent) this.agent.destroy(); }
}

interface Cookie { value: string; path: string }

/** Cookies of one browser on one host, sent by path prefix like a browser does. */
export class CookieJar {
  private cookies = new Map<string, Cookie>(); // key: name + '\0' + path
  store(setCookie: string[] | undefined) {
    for (const line of setCookie ?? []) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      let path = '/';
      let expired = value === '';
      for (const a of attrs) {
        const [k, v] = a.trim().split('=');
        const key = k!.toLowerCase();
        if (key === 'path' && v) path = v;
        if ((key === 'max-age' && Number(v) <= 0) || (key === 'expires' && v && Date.parse(v) < Date.now())) expired = true;
      }
      const id = `${name}\0${path}`;
      if (expired) this.cookies.delete(id); else this.cookies.set(id, { value, path });
    }
  }
  header(path: string): string {
    const out: string[] = [];
    const p = path.split('?')[0]!;
    for (const [id, c] of this.cookies) {
      // RFC 6265 §5.1.4 path-match
      if (p === c.path || (p.startsWith(c.path) && (c.path.endsWith('/') || p[c.path.length] === '/'))) out.push(`${id.split('\0')[0]}=${c.value}`);
    }
    return out.join('; ');
  }
}

/** The action and fields (hidden inputs with a value) of the first form whose action contains `match`. */
export function readForm(page: string, match: string): { action: string; fields: Record<string, string> } | undefined {
  for (const f of page.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)) {
    const action = unescape(f[1]!);
    if (!action.includes(match)) continue;
    const fields: Record<string, string> = {};
    for (const m of f[2]!.matchAll(/<input([^>]*)>/g)) {
      const name = /\bname="([^"]+)"/.exec(m[1]!)?.[1];
      const value = /\bvalue="([^"]*)"/.exec(m[1]!)?.[1];
      if (name && value !== undefined) fields[name] = unescape(value);
    }
    return { action, fields };
  }
  return undefined;
}

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
