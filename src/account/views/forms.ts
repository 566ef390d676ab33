// The portal's task pages: password change, confirmations for the sensitive actions, TOTP enrollment and
// codes shown once. Same shell, CSS and rules as the sign-in pages (labels, errors with role=alert, no
// inline script or style).
import { html, raw } from '../../views/html.ts';
import { page, type Theme } from '../../views/layout.ts';

const back = html`<p><a href="/account" id="back">Back to your account</a></p>`;

export function passwordPage(theme: Theme, v: { csrf: string; username: string; minLength: number; error?: string }): string {
  const described = v.error ? raw('aria-describedby="error password-rules"') : raw('aria-describedby="password-rules"');
  return page({
    theme, title: 'Change your password', error: v.error,
    body: html`<form method="post" action="/account/password" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="text" name="username" value="${v.username}" autocomplete="username" hidden readonly>
<label for="current">Current password</label>
<input type="password" id="current" name="current" autocomplete="current-password" required autofocus ${v.error ? raw('aria-describedby="error"') : ''}>
<label for="password">New password</label>
<input type="password" id="password" name="password" autocomplete="new-password" minlength="${v.minLength}" maxlength="1024" required ${described}>
<p class="muted" id="password-rules">At least ${v.minLength} characters. A few unrelated words make a strong, memorable password; common passwords and your username are refused.</p>
<label for="confirm">New password again</label>
<input type="password" id="confirm" name="confirm" autocomplete="new-password" required>
<button type="submit" id="change">Change password</button>
</form>
<p class="muted">Changing your password signs you out everywhere else, and applications that stay signed in on your behalf will ask you to sign in again.</p>
${back}`,
  });
}

/** A sensitive action's own page: what it does, one button (POST with CSRF), a way back. */
export function confirmPage(theme: Theme, v: { csrf: string; title: string; text: string; action: string; button: string; id: string; error?: string }): string {
  return page({
    theme, title: v.title, error: v.error,
    body: html`<p>${v.text}</p>
${v.error ? '' : html`<form method="post" action="${v.action}"><input type="hidden" name="csrf" value="${v.csrf}"><button type="submit" id="${v.id}">${v.button}</button></form>`}
${back}`,
  });
}

export function enrollPage(theme: Theme, v: { csrf: string; qrSvg: string; secret: string; error?: string }): string {
  return page({
    theme, title: 'Set up an authenticator app', error: v.error,
    body: html`<ol><li>Open an authenticator app on your phone.</li><li>Scan this code, or type the key below.</li><li>Enter the 6-digit code the app shows.</li></ol>
<div class="qr" role="img" aria-label="QR code for your authenticator app">${raw(v.qrSvg)}</div>
<p>Key: <span class="code" id="totp-secret">${v.secret.match(/.{1,4}/g)!.join(' ')}</span></p>
<form method="post" action="/account/totp/enroll" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="code">6-digit code</label>
<input type="text" id="code" name="code" inputmode="numeric" pattern="[0-9]*" maxlength="6" autocomplete="one-time-code" required autofocus ${v.error ? raw('aria-describedby="error"') : ''}>
<button type="submit" id="verify">Confirm</button>
</form>
${back}`,
  });
}

/** New recovery codes: shown on this page only, never again. */
export function codesPage(theme: Theme, v: { codes: string[]; notice: string }): string {
  return page({
    theme, title: 'Save your recovery codes', notice: v.notice,
    body: html`<p>If you lose your phone, each of these codes lets you sign in once. Store them somewhere safe: they are shown only now, and any older codes no longer work.</p>
<ul class="codes" id="recovery-codes">${v.codes.map((c) => html`<li>${c}</li>`)}</ul>
<p><a href="/account" class="button" id="done">I saved them</a></p>`,
  });
}
