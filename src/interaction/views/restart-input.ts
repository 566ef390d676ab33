import { html } from '../../views/html.ts';
import { RESTART_FIELD } from '../restart.ts';

/** The hidden field of a form that starts its sign-in again when posted after its interaction ended (interaction/restart.ts). */
export const restartInput = (target: string | undefined) =>
  (target ? html`<input type="hidden" name="${RESTART_FIELD}" value="${target}">` : '');
