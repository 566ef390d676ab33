// The MFA screens: factor choice, code entry (TOTP, recovery), TOTP enrollment, recovery codes shown once.
import { html, raw } from '../../views/html.ts';
import { page, type Theme } from '../../views/layout.ts';
import { restartInput } from '../views/restart-input.ts';

export interface ChoiceItem { id: string; label: string; description: string; usable: boolean; preferred: boolean }

export function choicePage(theme: Theme, v: { uid: string; csrf: string; items: ChoiceItem[]; error?: string; canEnroll: boolean }): string {
  const usable = v.items.filter((i) => i.usable);
  return page({
    theme, title: 'Verify it\u2019s you', error: v.error,
    body: html`<p>Choose how to confirm your sign-in.</p>
<form method="post" action="/interaction/${v.uid}/mfa/begin">
<input type="hidden" name="csrf" value="${v.csrf}">
<ul class="choices">
${v.items.map((i) => i.usable
    ? html`<li><button type="submit" name="factor" value="${i.id}" id="factor-${i.id}" class="${i.preferred ? '' : 'secondary'}" ${i.preferred ? 'autofocus' : ''}>${i.label}${i.preferred ? ' (last used)' : ''}<br><span class="muted">${i.description}</span></button></li>`
    : unavailable(i))}
</ul>
</form>
${v.canEnroll ? html`<p><a href="/interaction/${v.uid}/mfa/enroll" id="enroll-totp">Set up an authenticator app</a></p>` : ''}
${usable.length === 0 && !v.canEnroll ? html`<p id="no-factor">No verification method is available for your account right now. Contact your administrator.</p>` : ''}
<form method="post" action="/interaction/${v.uid}/abort"><input type="hidden" name="csrf" value="${v.csrf}"><button type="submit" class="secondary" id="cancel">Cancel sign-in</button></form>`,
  });
}

/**
 * A factor that cannot be used now (Duo's health check failed). Not a `disabled` button: that would drop out
 * of the Tab order, and its reason with it. It stays focusable with aria-disabled, says "Unavailable right
 * now" in its name and points (aria-describedby) at the visible sentence below it, both read out on focus.
 * Pressing it anyway is harmless: the server checks again and returns this page with the reason as an alert.
 */
const unavailable = (i: ChoiceItem) => html`<li><button type="submit" name="factor" value="${i.id}" id="factor-${i.id}" class="unavailable" aria-disabled="true" aria-describedby="factor-${i.id}-why">${i.label}${i.preferred ? ' (last used)' : ''}<br><span class="muted">Unavailable right now</span></button>
<p class="muted why" id="factor-${i.id}-why">${i.label} is not answering, so it cannot be used for this sign-in. Choose another method, or try again in a few minutes.</p></li>`;

export type CodeFactor = 'totp' | 'recovery' | 'bypass';
const CODE_TEXT: Record<CodeFactor, { title: string; label: string }> = {
  totp: { title: 'Enter your code', label: 'Code from your authenticator app' },
  recovery: { title: 'Use a recovery code', label: 'Recovery code' },
  bypass: { title: 'Use a bypass code', label: 'Bypass code from your administrator' },
};

/** `restart`: the authorization request to start again if the form is posted after its interaction ended (interaction/restart.ts). */
export function codePage(theme: Theme, v: { uid: string; csrf: string; factor: CodeFactor; error?: string; remaining?: number; restart?: string }): string {
  const totp = v.factor === 'totp';
  return page({
    theme, title: CODE_TEXT[v.factor].title, error: v.error,
    body: html`<form method="post" action="/interaction/${v.uid}/mfa/${v.factor}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
${restartInput(v.restart)}
<label for="code">${CODE_TEXT[v.factor].label}</label>
<input type="text" id="code" name="code" ${totp ? raw('inputmode="numeric" pattern="[0-9]*" maxlength="6"') : raw('maxlength="20"')} autocomplete="one-time-code" autocapitalize="none" spellcheck="false" required autofocus ${v.error ? raw('aria-describedby="error"') : ''}>
${v.remaining !== undefined ? html`<p class="muted" id="remaining">${v.remaining} ${v.remaining === 1 ? 'try' : 'tries'} left for this attempt.</p>` : ''}
<button type="submit" id="verify">Verify</button>
</form>
<p><a href="/interaction/${v.uid}?choose=1" id="use-another">Use another method</a></p>`,
  });
}

export function enrollPage(theme: Theme, v: { uid: string; csrf: string; qrSvg: string; secret: string; error?: string }): string {
  return page({
    theme, title: 'Set up your authenticator app', error: v.error,
    body: html`<ol><li>Open an authenticator app on your phone.</li><li>Scan this code, or type the key below.</li><li>Enter the 6-digit code the app shows.</li></ol>
<div class="qr" role="img" aria-label="QR code for your authenticator app">${raw(v.qrSvg)}</div>
<p>Key: <span class="code" id="totp-secret">${v.secret.match(/.{1,4}/g)!.join(' ')}</span></p>
<form method="post" action="/interaction/${v.uid}/mfa/enroll" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="code">6-digit code</label>
<input type="text" id="code" name="code" inputmode="numeric" pattern="[0-9]*" maxlength="6" autocomplete="one-time-code" required autofocus>
<button type="submit" id="verify">Confirm</button>
</form>
<p><a href="/interaction/${v.uid}?choose=1" id="use-another">Back</a></p>`,
  });
}

export function recoveryCodesPage(theme: Theme, v: { uid: string; csrf: string; codes: string[]; restart?: string }): string {
  return page({
    theme, title: 'Save your recovery codes', notice: 'Your authenticator app is set up.',
    body: html`<p>If you lose your phone, each of these codes lets you sign in once. Store them somewhere safe: they are shown only now.</p>
<ul class="codes" id="recovery-codes">${v.codes.map((c) => html`<li>${c}</li>`)}</ul>
<form method="post" action="/interaction/${v.uid}/mfa/enroll/done"><input type="hidden" name="csrf" value="${v.csrf}">${restartInput(v.restart)}<button type="submit" id="continue" autofocus>I saved them, continue</button></form>`,
  });
}
