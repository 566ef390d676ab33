// A minimal cookie-keeping HTTP "browser" for protocol tests: follows redirects by hand so tests can stop
// at any step, and reads forms out of Gatehouse's pages.
export class Browser {
  cookies = new Map<string, Map<string, string>>(); // host → name → value
  last?: Response;

  private cookieHeader(url: URL): string {
    const jar = this.cookies.get(url.host);
    return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  private store(url: URL, res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      let jar = this.cookies.get(url.host);
      if (!jar) { jar = new Map(); this.cookies.set(url.host, jar); }
      const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0/i.test(a));
      if (expired || value === '') jar.delete(name); else jar.set(name, value);
    }
  }

  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(u);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(u, { ...init, headers, redirect: 'manual' });
    this.store(u, res);
    this.last = res;
    return res;
  }

  get(url: string | URL) { return this.request(url); }

  post(url: string | URL, form: Record<string, string>) {
    return this.request(url, { method: 'POST', body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
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
