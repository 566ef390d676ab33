import { html, raw } from '../../views/html.ts';
import { page, type Theme } from '../../views/layout.ts';
import { restartInput } from './restart-input.ts';

export interface LoginView {
  uid: string; csrf: string; username?: string; error?: string; clientName?: string; notice?: string;
  /** The authorization request to start again if the form is posted after its interaction ended (restart.ts). */
  restart?: string;
}

export function loginPage(theme: Theme, v: LoginView): string {
  return page({
    theme, title: 'Sign in', error: v.error, notice: v.notice,
    body: html`${v.clientName ? html`<p class="muted">to continue to <strong>${v.clientName}</strong></p>` : ''}
<form method="post" action="/interaction/${v.uid}/login" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
${restartInput(v.restart)}
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${v.username ?? ''}" ${v.username ? '' : 'autofocus'} ${v.error ? raw('aria-describedby="error"') : ''}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required ${v.username ? 'autofocus' : ''}>
<button type="submit" id="sign-in">Sign in</button>
</form>
<form method="post" action="/interaction/${v.uid}/abort"><input type="hidden" name="csrf" value="${v.csrf}"><button type="submit" class="secondary" id="cancel">Cancel</button></form>`,
  });
}
