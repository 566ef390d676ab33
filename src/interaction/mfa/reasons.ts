// What the user reads when a factor did not work. Only these fixed texts reach the page: the reason code
// in the URL selects one of them, so nothing from the request is ever reflected.
import type { FailureReason } from '../../mfa/factor.ts';

export const REASON_TEXT: Record<FailureReason, string> = {
  denied: 'The request was denied.',
  fraud: 'The request was reported as not made by you. If that was a mistake, try again; otherwise tell your administrator.',
  invalid: 'That code was not accepted.',
  expired: 'That attempt expired or was already used.',
  unavailable: 'That method is unavailable right now.',
  not_enrolled: 'That method is not set up for your account.',
  error: 'Something went wrong with that method.',
  too_many_attempts: 'Too many wrong codes for this attempt.',
  locked: 'Too many failed attempts for this account. Wait a few minutes and try again.',
};

export const isReason = (r: unknown): r is FailureReason => typeof r === 'string' && Object.hasOwn(REASON_TEXT, r);

export function failureMessage(reason: FailureReason, factorLabel?: string): string {
  return `${factorLabel ? `${factorLabel}: ` : ''}${REASON_TEXT[reason]} Choose a method below to continue.`;
}
