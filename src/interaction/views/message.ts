import { html } from '../../views/html.ts';
import { page, type Theme } from '../../views/layout.ts';

/** A dead-end page (only when there is truly nothing else to offer) with a stable reference code. */
export function messagePage(theme: Theme, v: { title: string; message: string; code: string; next?: string }): string {
  return page({
    theme, title: v.title, error: v.message,
    body: html`${v.next ? html`<p>${v.next}</p>` : ''}<p class="muted">Reference code: <span class="code" id="error-code">${v.code}</span></p>`,
  });
}

/** The page for a sign-in whose interaction expired or belongs to another browser (stable code GW_INTERACTION_EXPIRED). */
export function expiredPage(theme: Theme): string {
  return messagePage(theme, {
    title: 'This sign-in has expired', code: 'GW_INTERACTION_EXPIRED',
    message: 'This sign-in page has expired or was opened in a different browser.',
    next: 'Go back to the application and sign in again.',
  });
}

/** The page for a database outage (served with 503 and Retry-After). */
export function unavailablePage(theme: Theme): string {
  return messagePage(theme, {
    title: 'Temporarily unavailable', code: 'GW_UNAVAILABLE',
    message: 'The sign-in service is temporarily unavailable.', next: 'Wait a moment and try again.',
  });
}

/** What a user reads when the password check was refused because the hashing queue is full. */
export const BUSY_TEXT = 'Many people are signing in right now. Wait a few seconds and try again.';

/** The page for a busy answer outside the sign-in form (served with 503 and Retry-After). */
export function busyPage(theme: Theme): string {
  return messagePage(theme, { title: 'Busy', code: 'GW_BUSY', message: BUSY_TEXT, next: 'Go back and submit the form again.' });
}
