import { html } from '../../views/html.ts';
import { page, type Theme } from '../../views/layout.ts';

/** A dead-end page (only when there is truly nothing else to offer) with a stable reference code. */
export function messagePage(theme: Theme, v: { title: string; message: string; code: string; next?: string }): string {
  return page({
    theme, title: v.title, error: v.message,
    body: html`${v.next ? html`<p>${v.next}</p>` : ''}<p class="muted">Reference code: <span class="code" id="error-code">${v.code}</span></p>`,
  });
}
