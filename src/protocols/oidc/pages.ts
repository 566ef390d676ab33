// oidc-provider's own HTML screens (errors it cannot redirect, logout confirmation, logout done),
// rendered with Gatehouse's layout instead of the library defaults (which load external fonts).
import type { KoaContextWithOIDC, ErrorOut } from 'oidc-provider';
import { html, raw } from '../../views/html.ts';
import { page, type Theme } from '../../views/layout.ts';
import { expiredPage } from '../../interaction/views/message.ts';

const STABLE_CODES: Record<string, string> = {
  invalid_request: 'GW_OIDC_INVALID_REQUEST', invalid_client: 'GW_OIDC_INVALID_CLIENT',
  invalid_redirect_uri: 'GW_OIDC_REDIRECT_URI', unauthorized_client: 'GW_OIDC_UNAUTHORIZED_CLIENT',
  server_error: 'GW_OIDC_SERVER_ERROR', temporarily_unavailable: 'GW_UNAVAILABLE',
  invalid_request_uri: 'GW_OIDC_INVALID_REQUEST',
};

/** What the user reads: a plain sentence for what happened and one for what to do; never the protocol's words alone. */
interface Plain { title: string; message: string; next: string }

const GO_BACK = 'Go back to the application and start again. If it happens again, the application needs fixing: give its administrator the reference code below.';

/** The plain-language page for an oidc-provider error, by error code and, where one code covers several cases, description. */
function plainError(productName: string, status: number, out: ErrorOut): Plain {
  const description = out.error_description ?? '';
  if (status >= 500 || out.error === 'server_error') {
    return { title: 'Something went wrong', message: 'Something went wrong on our side, and the sign-in could not continue.', next: 'Wait a moment, then go back to the application and try again.' };
  }
  if (out.error === 'temporarily_unavailable') {
    return { title: 'Temporarily unavailable', message: 'The sign-in service is temporarily unavailable.', next: 'Wait a moment, then go back to the application and try again.' };
  }
  if (out.error === 'invalid_redirect_uri') {
    return { title: 'Sign-in stopped', message: `The application asked ${productName} to send you back to an address it has not registered, so the sign-in was stopped to protect your account.`, next: GO_BACK };
  }
  if (out.error === 'invalid_client' || out.error === 'unauthorized_client') {
    return out.error === 'invalid_client'
      ? { title: 'Unknown application', message: `The application that sent you here is not known to ${productName}.`, next: GO_BACK }
      : { title: 'Application not allowed', message: 'This application is not allowed to sign you in this way.', next: GO_BACK };
  }
  if (out.error === 'invalid_request_uri' || /expired|already used|could not find logout details/.test(description)) {
    return { title: 'This link has expired', message: 'This sign-in or sign-out link has expired or was already used.', next: 'Go back to the application and start again.' };
  }
  if (/post_logout_redirect_uri/.test(description)) {
    return { title: 'Sign-out stopped', message: `The application asked ${productName} to send you back, after signing out, to an address it has not registered. You are still signed in.`, next: GO_BACK };
  }
  if (/id_token_hint|logout_hint/.test(description)) {
    return { title: 'Sign-out could not be confirmed', message: 'The sign-out request from the application could not be verified. You are still signed in.', next: GO_BACK };
  }
  return { title: 'Sign-in could not continue', message: `The application sent a sign-in request that ${productName} cannot accept.`, next: GO_BACK };
}

export function createOidcPages(theme: Theme) {
  return {
    async renderError(ctx: KoaContextWithOIDC, out: ErrorOut, error?: Error) {
      ctx.type = 'html';
      ctx.set('cache-control', 'no-store');
      // A sign-in that outlived its interaction (or was resumed in another browser) is the user's everyday
      // "took too long" case, not a bad request from the application: same page as the interaction routes.
      if (error?.name === 'SessionNotFound') {
        ctx.body = expiredPage(theme);
        return;
      }
      const status = ctx.status ?? 500;
      const code = STABLE_CODES[out.error] ?? `GW_OIDC_${out.error.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
      const plain = plainError(theme.productName, status, out);
      // For the application's developers, below the plain text: oidc-provider's error code and its fixed
      // description (never a stack or an internal detail, and never for a 5xx).
      const detail = status < 500 && out.error_description ? `${out.error}: ${out.error_description}` : undefined;
      ctx.body = page({
        theme, title: plain.title, error: plain.message,
        body: html`<p>${plain.next}</p>
<p class="muted">Reference code: <span class="code" id="error-code">${code}</span></p>
${detail ? html`<p class="muted" id="error-detail">Detail for the application's developers: ${detail}</p>` : ''}`,
      });
    },

    async logoutSource(ctx: KoaContextWithOIDC, form: string) {
      ctx.type = 'html';
      const client = ctx.oidc.client;
      ctx.body = page({
        theme, title: 'Sign out?',
        body: html`${raw(form)}<p>${client ? html`<strong>${client.clientName ?? client.clientId}</strong> asks to sign you out.` : 'Do you want to sign out?'}
 This ends your single sign-on session in every application.</p>
<button type="submit" form="op.logoutForm" name="logout" value="yes" id="logout-yes" autofocus>Sign out</button>
<button type="submit" form="op.logoutForm" class="secondary" id="logout-no">Stay signed in</button>`,
      });
    },

    async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
      ctx.type = 'html';
      ctx.body = page({ theme, title: 'Signed out', body: html`<p id="signed-out">You have been signed out. You can close this window.</p>` });
    },
  };
}
