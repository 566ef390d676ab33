// The page shell of the two sample applications: one small stylesheet served from the app itself, no
// script, no external asset, a strict CSP. Deliberately plain so that what the gateway sends is the star.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ESC[c]!);

export const DEMO_CSS = `*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#f7f7f2}
body{margin:0 auto;padding:1rem;max-width:46rem}
header{display:flex;flex-wrap:wrap;gap:.5rem;align-items:baseline;justify-content:space-between;border-bottom:3px solid var(--a);margin-bottom:1rem}
.app{font-weight:700;color:var(--a);margin:.5rem 0}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{text-align:left;vertical-align:top;padding:.4rem .5rem;border-bottom:1px solid #d4d4cf;overflow-wrap:anywhere}
th{width:34%;font-weight:600}
caption{text-align:left;padding:.25rem 0}
code{font-family:ui-monospace,monospace;font-size:.9rem}
.hl{background:#fff6d5}
button,.button{display:inline-block;margin:.5rem .5rem 0 0;padding:.6rem 1rem;font-size:1rem;font-weight:600;border-radius:.35rem;border:1px solid var(--a);background:var(--a);color:#fff;cursor:pointer;text-decoration:none}
.secondary{background:#fff;color:var(--a)}
button:focus-visible,a:focus-visible{outline:3px solid #b45309;outline-offset:2px}
a{color:var(--a)}
form{display:inline}
.alert{border:1px solid #b91c1c;background:#fef2f2;color:#7f1d1d;padding:.6rem .75rem;border-radius:.35rem}
.note{color:#44443f;font-size:.95rem}
`;

/** A full page. `accent` tells the two sample apps apart at a glance. */
export function demoPage(o: { app: string; title: string; body: string; accent: string; error?: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)} · ${esc(o.app)}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body class="${o.accent}">
<header><p class="app">${esc(o.app)}</p><p class="note">a sample application of the Gatehouse demo</p></header>
<main>
<h1>${esc(o.title)}</h1>
${o.error ? `<div class="alert" role="alert" id="error">${esc(o.error)}</div>` : ''}
${o.body}
</main>
</body>
</html>
`;
}

/** The stylesheet with both accents (no inline style, so the CSP stays strict). */
export const stylesheet = `${DEMO_CSS}.oidc{--a:#0f5f4f}.saml{--a:#6b2c91}.partner{--a:#8a3b12}\n`;

export function csp(formTargets: string[]): string {
  // form-action covers the redirect chain after a form post too (sign-out goes on to the gateway).
  return ["default-src 'none'", "style-src 'self'", "img-src 'self'", `form-action 'self' ${formTargets.join(' ')}`, "base-uri 'none'", "frame-ancestors 'none'"].join('; ');
}

export function send(res: ServerResponse, status: number, type: string, body: string, policy: string, extra: Record<string, string | string[]> = {}) {
  res.writeHead(status, {
    'content-type': type, 'cache-control': 'no-store', 'content-security-policy': policy,
    'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY', ...extra,
  });
  res.end(body);
}

export function redirect(res: ServerResponse, location: string, extra: Record<string, string | string[]> = {}) {
  res.writeHead(303, { location, 'cache-control': 'no-store', ...extra });
  res.end();
}

export function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return out;
}

/** A session cookie for the app's own path-less session (HttpOnly, Lax: it must survive the gateway's redirects). */
export const setCookie = (name: string, value: string, maxAge?: number) =>
  `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax${maxAge !== undefined ? `; Max-Age=${maxAge}` : ''}`;

export const newId = () => randomBytes(18).toString('base64url');

export async function readForm(req: IncomingMessage, limit = 256 * 1024): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

export function sameToken(a: string | null | undefined, b: string | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
