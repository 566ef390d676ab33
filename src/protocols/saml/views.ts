// The pages of the SAML endpoints. The auto-submitting form carries the message to the SP: CSP allows
// scripts only from 'self', so the submit is the static /assets/saml-post.js, and a visible Continue
// button does the same without JavaScript. RelayState and the message are attribute values, escaped by html``.
import { html } from '../../views/html.ts';
import { page, type Theme } from '../../views/layout.ts';
import { messagePage } from '../../interaction/views/message.ts';
import { PATHS } from './constants.ts';

/** The script the auto-post page loads (served at PATHS.postScript). */
export const POST_SCRIPT = `document.getElementById('saml-post').submit();\n`;

export function autoPostPage(theme: Theme, o: { action: string; fields: Record<string, string>; spName: string }): string {
  return page({
    theme, title: 'Continuing…',
    body: html`<form id="saml-post" method="post" action="${o.action}">
${Object.entries(o.fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">\n`)}<p>Signing you in to <strong>${o.spName}</strong>.</p>
<button type="submit" id="continue">Continue</button>
</form>
<script src="${PATHS.postScript}"></script>`,
  });
}

export function samlErrorPage(theme: Theme, o: { code: string; message: string; requestId: string }): string {
  return messagePage(theme, {
    title: 'Sign-in could not continue', code: `${o.code} (${o.requestId})`, message: o.message,
    next: 'Go back to the application and start again. If this keeps happening, give the reference code to your administrator.',
  });
}

export function signedOutPage(theme: Theme): string {
  return page({ theme, title: 'Signed out', body: html`<p id="signed-out">You have been signed out. You can close this window.</p>` });
}
