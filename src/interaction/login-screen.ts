// The login form of an interaction: shown by the interaction's page (routes.ts) and, for an interaction
// oidc-provider has just started for the login prompt, as the authorization endpoint's own answer
// (protocols/oidc/login-in-authorize.ts). One place builds it, so both show the same form.
import type { Csrf } from './csrf.ts';
import type { Theme } from '../views/layout.ts';
import { loginPage } from './views/login.ts';
import { restartTarget } from './restart.ts';

export interface LoginScreenInput {
  uid: string; params: Record<string, unknown>; clientName?: string;
  /** A failed attempt's message, and the username to show again with it. */
  error?: string; username?: string;
}

export function createLoginScreen(theme: Theme, csrf: Csrf) {
  return (v: LoginScreenInput): string => loginPage(theme, {
    uid: v.uid, csrf: csrf.token(v.uid, 'login'), error: v.error, clientName: v.clientName, restart: restartTarget(v.params),
    username: v.username ?? (typeof v.params.login_hint === 'string' ? v.params.login_hint.slice(0, 128) : undefined),
  });
}
export type LoginScreen = ReturnType<typeof createLoginScreen>;
