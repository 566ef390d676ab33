// Self-contained HTML pages of the emulator (prompt, dead-end, error).
// No scripts and no external assets, served under a strict CSP, so a gateway's
// browser tests exercise the real top-level redirect dance and nothing else.
import { randomBytes } from 'node:crypto';

export interface Page {
  headers: Record<string, string>;
  body: string;
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );
}

/**
 * `formActionOrigin`: set when the page has a form whose POST ends in a redirect to the application.
 * Browsers apply CSP form-action to every redirect after a form POST, and that chain legitimately goes on
 * from the application's callback to wherever it redirects next, so such pages carry no form-action at all;
 * pages without a form get `form-action 'none'`.
 */
function page(title: string, inner: string, formActionOrigin?: string): Page {
  const nonce = randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    ...(formActionOrigin ? [] : ["form-action 'none'"]),
    "frame-ancestors 'none'", // the Universal Prompt refuses to be framed
    "base-uri 'none'",
  ].join('; ');
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${nonce}">
body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}
.card{border:1px solid #ccc;border-radius:8px;padding:1.5rem}
button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem;cursor:pointer}
.badge{font-size:.75rem;color:#666}
</style></head>
<body><div class="card"><p class="badge">Duo emulator (test only)</p>
${inner}
</div></body></html>`;
  return {
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    },
    body,
  };
}

/** The interactive prompt; button ids are a contract for browser tests. */
export function promptPage(opts: {
  sid: string;
  username: string;
  clientId: string;
  exitPath: string;
  redirectOrigin: string | undefined;
}): Page {
  const sid = escapeHtml(opts.sid);
  return page(
    'Duo Security - Verify your identity',
    `<h1>Verify it's you</h1>
<p>Signing in as <strong id="duo-username">${escapeHtml(opts.username)}</strong></p>
<p class="badge">Application ${escapeHtml(opts.clientId)}</p>
<form method="post" action="${escapeHtml(opts.exitPath)}">
<input type="hidden" name="sid" value="${sid}">
<button type="submit" id="duo-approve" name="action" value="approve">Approve</button>
<button type="submit" id="duo-deny" name="action" value="deny">Deny</button>
<button type="submit" id="duo-cancel" name="action" value="cancel">Cancel</button>
</form>`,
    opts.redirectOrigin,
  );
}

/** Outcome `no_redirect`: the user is stuck at Duo (timeout, lock-out...). */
export function noRedirectPage(username: string): Page {
  return page(
    'Duo Security - Access denied',
    `<h1 id="duo-dead-end">Your account is locked out</h1>
<p>${escapeHtml(username)} cannot continue. Contact your help desk.</p>`,
  );
}

/** Invalid authorize/prompt request: shown instead of redirecting (the redirect_uri is untrusted). */
export function errorPage(detail: string): Page {
  return page(
    'Duo Security - Error',
    `<h1 id="duo-error">Invalid request</h1><p>${escapeHtml(detail)}</p>`,
  );
}
