// The interaction pipeline, readable as one list: login → (mfa, added by the MFA step) → consent.
import { interactionPolicy } from 'oidc-provider';

const { base, Prompt } = interactionPolicy;
type PromptT = InstanceType<typeof Prompt>;

/** Builds the policy; extra prompts (the MFA step) are inserted right after `login`. */
export function buildPolicy(extra: PromptT[] = []) {
  const policy = base();
  const loginIndex = policy.findIndex((p) => p.name === 'login');
  policy.splice(loginIndex + 1, 0, ...extra);
  return policy;
}
