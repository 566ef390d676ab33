// The portal's start page: who is signed in, the password, the second factors, recent sign-in activity and
// the session actions. Every sensitive action is a link to its own page (which asks for a fresh second
// factor first), never a one-click POST from here.
import { html } from '../../views/html.ts';
import { page, type Theme } from '../../views/layout.ts';
import type { FactorOverview } from '../factors.ts';

export interface ActivityItem { at: Date; application: string; method: string; result: string; ip: string }

export interface HomeView {
  username: string; csrf: string; factors: FactorOverview; activity: ActivityItem[]; notice?: string; error?: string;
}

const when = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function homePage(theme: Theme, v: HomeView): string {
  const f = v.factors;
  return page({
    theme, title: 'Your account', notice: v.notice, error: v.error,
    body: html`<p>Signed in as <strong id="username">${v.username}</strong></p>
<h2>Password</h2>
<p><a href="/account/password" id="change-password">Change your password</a></p>
<h2>Two-step verification</h2>
<ul id="factors">
${f.totp.enabled || f.totp.enrolled ? html`<li id="factor-totp">Authenticator app: <strong>${f.totp.enrolled ? 'set up' : 'not set up'}</strong>
${f.totp.enrolled ? html` · <a href="/account/totp/remove" id="remove-totp">Remove</a>` : f.totp.enabled ? html` · <a href="/account/totp/enroll" id="enroll-totp">Set up</a>` : ''}</li>` : ''}
${f.duo ? html`<li id="factor-duo">Duo: managed by your organization</li>` : ''}
${f.totp.enrolled || f.recoveryRemaining > 0 ? html`<li id="factor-recovery">Recovery codes: <strong id="recovery-remaining">${f.recoveryRemaining}</strong> unused${f.totp.enrolled ? html` · <a href="/account/recovery" id="regenerate-recovery">Get new codes</a>` : ''}</li>` : ''}
</ul>
<p id="preferred">${f.preferred ? html`Used last (offered first when you sign in): <strong>${f.preferred.label}</strong>` : 'No method used yet.'}</p>
<h2>Recent sign-in activity</h2>
${v.activity.length ? html`<ul id="activity">${v.activity.map((a) => html`<li><time datetime="${a.at.toISOString()}">${when(a.at)}</time> · ${a.application} · ${a.method} · ${a.result} · from ${a.ip}</li>`)}</ul>`
    : html`<p id="activity">No sign-ins recorded yet.</p>`}
<p class="muted">If you see a sign-in you do not recognise, change your password and sign out everywhere.</p>
<h2>Sessions</h2>
<p><a href="/account/sign-out-everywhere" id="sign-out-everywhere">Sign out everywhere</a></p>
<form method="post" action="/account/sign-out"><input type="hidden" name="csrf" value="${v.csrf}"><button type="submit" class="secondary" id="sign-out">Sign out</button></form>`,
  });
}
