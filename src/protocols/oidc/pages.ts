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
      const code = STABLE_CODES[out.error] ?? `GW_OIDC_${out.error.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
      // error_description is oidc-provider's fixed wording (never a stack or an internal detail) for < 500.
      const message = (ctx.status ?? 500) >= 500 ? 'Something went wrong on our side. Please try again.' : out.error_description ?? out.error;
      ctx.body = page({
        theme, title: 'Sign-in could not continue', error: message,
        body: html`<p>The application sent a request Gatehouse cannot accept. Go back to the application and start again.</p>
<p class="muted">Reference code: <span class="code" id="error-code">${code}</span></p>`,
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
