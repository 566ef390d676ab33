// Small HTTP helpers for the emulator (plain node:https, no framework, so
// faults like "never answer" and "drop the listener" stay fully under control).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Page } from './pages.ts';

const MAX_BODY = 256 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Request parameters: query merged with the body, body winning. Lenient on
 * encoding like Duo must be (§12.1): urlencoded (node, go, java, csharp),
 * multipart (php) and query-only POSTs (python). The Fetch Response parser
 * handles both body encodings.
 */
export async function readParams(req: IncomingMessage, url: URL): Promise<URLSearchParams> {
  const params = new URLSearchParams(url.search);
  if (req.method !== 'POST') return params;
  const body = await readBody(req);
  const type = req.headers['content-type'] ?? '';
  if (body.length === 0 || !/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return params;
  try {
    const form = await new Response(new Uint8Array(body), { headers: { 'content-type': type } }).formData();
    for (const [k, v] of form) if (typeof v === 'string') params.set(k, v);
  } catch {
    // Unparsable body: treated as empty, the endpoint then reports what is missing.
  }
  return params;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...extra });
  res.end(JSON.stringify(body));
}

export function sendPage(res: ServerResponse, status: number, page: Page): void {
  res.writeHead(status, page.headers);
  res.end(page.body);
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
  res.end();
}

/**
 * Appends callback parameters to a redirect_uri without re-serialising its own
 * query: integrations (e.g. Keycloak's session_code) rely on it round-tripping
 * byte for byte. Fragments are rejected earlier (R4).
 */
export function withParams(uri: string, params: Record<string, string>): string {
  const sep = !uri.includes('?') ? '?' : /[?&]$/.test(uri) ? '' : '&';
  return uri + sep + new URLSearchParams(params).toString();
}
