// A minimal cookie-keeping HTTP "browser" for protocol tests: follows redirects by hand so tests can stop
// at any step, and reads forms out of Gatehouse's pages.
/** What browsers send as Accept on a navigation. */
export const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
/** What a browser says of a request made from one of the gateway's own pages (Fetch Metadata). */
export const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' } as const;

export class Browser {
  cookies = new Map<string, Map<string, string>>(); // hostname → name → value (like browsers, ports share cookies)
  /** Where each request really goes (e.g. alternate between two instances behind one public URL). */
  rewrite?: (u: URL) => URL;
  last?: Response;

  private cookieHeader(url: URL): string {
    const jar = this.cookies.get(url.hostname);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  private store(url: URL, res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      let jar = this.cookies.get(url.hostname);
      if (!jar) { jar = new Map(); this.cookies.set(url.hostname, jar); }
      const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0/i.test(a));
      if (expired || value === '') jar.delete(name); else jar.set(name, value);
    }
  }

  /** `withCookies: false`: none of the jar's cookies go along (the response's are still kept). */
  async request(url: string | URL, init: RequestInit = {}, withCookies = true): Promise<Response> {
    const u = new URL(url);
    const target = this.rewrite ? this.rewrite(new URL(u)) : u;
    const headers = new Headers(init.headers);
    const cookie = withCookies ? this.cookieHeader(u) : '';
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(target, { ...init, headers, redirect: 'manual' });
    this.store(u, res);
    this.last = res;
    return res;
  }

  get(url: string | URL) { return this.request(url); }

  /** A top-level navigation: sends the Accept header a real browser sends (HTML first). */
  navigate(url: string | URL) { return this.request(url, { headers: { accept: BROWSER_ACCEPT } }); }

  /** A form submission as a real browser makes it (HTML first). */
  submit(url: string | URL, form: Record<string, string>) {
    return this.request(url, { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded', accept: BROWSER_ACCEPT } });
  }

  post(url: string | URL, form: Record<string, string>, headers: Record<string, string> = {}) {
    return this.request(url, { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  }

  /**
   * A form another site's page posts to `url`, as a browser sends it: Sec-Fetch-Site says so, and none of
   * this browser's cookies go along (every cookie the gateway sets is SameSite=Lax or Strict).
   */
  crossSitePost(url: string | URL, form: Record<string, string>): Promise<Response> {
    return this.request(url, {
      method: 'POST', body: new URLSearchParams(form),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: BROWSER_ACCEPT, 'sec-fetch-site': 'cross-site' },
    }, false);
  }

  /** Follows redirects until a non-redirect response or a URL for which `stop` returns true. */
  async follow(res: Response, base: string | URL, stop: (u: URL) => boolean = () => false): Promise<{ res: Response; url: URL }> {
    let url = new URL(base);
    for (let i = 0; i < 20 && res.status >= 300 && res.status < 400; i++) {
      url = new URL(res.headers.get('location')!, url);
      if (stop(url)) return { res, url };
      res = await this.get(url);
    }
    return { res, url };
  }

  /**
   * Like follow, but also submits oidc-provider's self-submitting forms (what the page's script does in a
   * real browser), e.g. the logout of the previous account when another account signs in.
   */
  async followAutoPost(res: Response, base: string | URL, stop: (u: URL) => boolean = () => false): Promise<{ res: Response; url: URL }> {
    let step = await this.follow(res, base, stop);
    for (let i = 0; i < 5 && step.res.status === 200 && !stop(step.url); i++) {
      const page = await step.res.clone().text();
      if (!/document\.forms\[0\]\.submit\(\)/.test(page)) break;
      const form = readForm(page);
      const action = new URL(form.action, step.url);
      step = await this.follow(await this.post(action, form.fields), action, stop);
    }
    return step;
  }
}

/** The hidden inputs and action of the first form whose action matches. */
export function readForm(page: string, actionIncludes = ''): { action: string; fields: Record<string, string> } {
  const forms = [...page.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)];
  const form = forms.find((f) => f[1]!.includes(actionIncludes));
  if (!form) throw new Error(`no form with action containing ${actionIncludes}`);
  const fields: Record<string, string> = {};
  for (const m of form[2]!.matchAll(/<input([^>]*)>/g)) {
    const name = /\bname="([^"]+)"/.exec(m[1]!)?.[1];
    if (name) fields[name] = decode(/\bvalue="([^"]*)"/.exec(m[1]!)?.[1] ?? '');
  }
  return { action: decode(form[1]!), fields };
}

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

export interface RawResponse { status: number; headers: import('node:http').IncomingHttpHeaders; body: string }

/**
 * A request through node:http, which (unlike fetch) lets a test send any Host header, e.g. to prove that a
 * spoofed Host or X-Forwarded-Host cannot change the links the gateway publishes.
 */
export async function rawRequest(url: string | URL, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? 'GET', headers: o.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** The browser's cookie jar for the gateway's host (created if missing), to copy or plant cookies. */
export function cookieJar(browser: Browser, base: string | URL): Map<string, string> {
  const key = new URL(base).hostname;
  let jar = browser.cookies.get(key);
  if (!jar) { jar = new Map(); browser.cookies.set(key, jar); }
  return jar;
}

/** The value of a cookie the browser holds for the gateway (any path). */
export function cookieValue(browser: Browser, base: string | URL, name: string): string | undefined {
  return cookieJar(browser, base).get(name);
}

/** True when the text looks like a stack trace or leaks a source path (never acceptable in a response). */
export function hasStackTrace(text: string): boolean {
  return /\bat [^\n]*\((?:file:\/\/|node:|\/)[^)]*:\d+:\d+\)/.test(text) || /\.ts:\d+/.test(text) || /\bat async\b/.test(text)
    || /node_modules/.test(text);
}
