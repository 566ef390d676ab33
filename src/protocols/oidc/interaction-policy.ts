// The interaction pipeline, readable as one list: login → (mfa, added by the MFA step) → consent.
import { interactionPolicy } from 'oidc-provider';

const { base, Prompt, Check } = interactionPolicy;
type PromptT = InstanceType<typeof Prompt>;

/**
 * An SSO session whose account findAccount no longer returns (disabled or deleted since sign-in) is no
 * session at all: ask for a login (login_required under prompt=none). oidc-provider's own `no_session` check
 * looks only at session.accountId, and the later checks then fail on the missing grant with a 500.
 */
const accountGone = () => new Check('account_gone', 'End-User authentication is required', 'login_required', (ctx) =>
  (ctx.oidc.session?.accountId && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT));

/** Builds the policy; extra prompts (the MFA step) are inserted right after `login`. */
export function buildPolicy(extra: PromptT[] = []) {
  const policy = base();
  const login = policy.get('login')!;
  login.checks.add(accountGone(), login.checks.findIndex((c) => c.reason === 'no_session') + 1);
  const loginIndex = policy.findIndex((p) => p.name === 'login');
  policy.splice(loginIndex + 1, 0, ...extra);
  return policy;
}
