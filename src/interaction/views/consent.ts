import { html } from '../../views/html.ts';
import { page, type Theme } from '../../views/layout.ts';
import { restartInput } from './restart-input.ts';

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are', profile: 'See your name and username', email: 'See your email address',
  groups: 'See the groups you belong to', offline_access: 'Stay signed in when you are not using it',
  api: 'Call the APIs behind this sign-in as you',
};

/** `restart`: the authorization request to start again if "Allow" is posted after its interaction ended (interaction/restart.ts); not on "Deny". */
export function consentPage(theme: Theme, v: { uid: string; csrf: string; clientName: string; scopes: string[]; restart?: string }): string {
  return page({
    theme, title: 'Allow access?',
    body: html`<p><strong>${v.clientName}</strong> would like to:</p>
<ul>${v.scopes.map((s) => html`<li>${SCOPE_TEXT[s] ?? s}</li>`)}</ul>
<form method="post" action="/interaction/${v.uid}/confirm"><input type="hidden" name="csrf" value="${v.csrf}">${restartInput(v.restart)}<button type="submit" id="allow" autofocus>Allow</button></form>
<form method="post" action="/interaction/${v.uid}/abort"><input type="hidden" name="csrf" value="${v.csrf}"><button type="submit" class="secondary" id="deny">Deny</button></form>`,
  });
}
