// The login form as the authorization endpoint's own answer (as Keycloak answers). When oidc-provider starts
// an interaction for the login prompt it answers 303 to /interaction/:uid, and the browser's next request
// only reads that interaction back to show the form. Showing the form in the first answer instead saves one
// HTTP exchange and one database read per login. Nothing else changes: the form posts to
// /interaction/:uid/login, where the interaction cookie oidc-provider set in this same answer (path
// /interaction/:uid) goes along, and every later screen is the interaction's own page as before.
// Not for an in-process authorization (saml/inline-authorize.ts), which hands any screen to the browser as
// the redirect it is. A reload of the page repeats the authorization request: a fresh interaction.
// Relies on oidc-provider keeping the interaction it has just saved as ctx.oidc.entities.Interaction and
// redirecting to `interactions.url` (provider.ts):
// https://github.com/panva/node-oidc-provider/blob/main/lib/actions/authorization/interactions.js
import type { KoaContextWithOIDC } from 'oidc-provider';
import { currentUnit } from '../../storage/unit-of-work.ts';
import type { LoginScreen } from '../../interaction/login-screen.ts';

/** Koa middleware for provider.use, inside the unit of work (its page is sent only if the commit holds). */
export function loginInAuthorizeAnswer(screen: LoginScreen) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    if (ctx.status !== 303 || ctx.oidc?.route !== 'authorization') return;
    const interaction = ctx.oidc.entities.Interaction;
    if (!interaction || interaction.prompt.name !== 'login' || ctx.response.get('location') !== `/interaction/${interaction.uid}`) return;
    if (currentUnit()?.guest === ctx.req) return;
    const client = ctx.oidc.client;
    ctx.remove('location');
    ctx.status = 200;
    ctx.set('cache-control', 'no-store');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = screen({ uid: interaction.uid, params: interaction.params, clientName: client?.clientName ?? client?.clientId });
  };
}
