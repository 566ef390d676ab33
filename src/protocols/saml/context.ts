// What the SAML handlers share, built once by idp.ts (register), and what they answer with.
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import type { ProviderHolder } from '../oidc/mount.ts';
import type { IdpKeys } from './idp-keys.ts';
import type { RequestGuard } from './request-guard.ts';
import type { SpRegistry } from './sp-registry.ts';
import type { SamlStore } from './store.ts';

export interface SamlContext {
  app: FastifyInstance; s: Services; issuer: string; idpEntityId: string; holder: ProviderHolder;
  sps: SpRegistry; keys: IdpKeys; store: SamlStore; guard: RequestGuard;
}

/** How a handler answers the browser; routes.ts renders it. */
export type Answer = (
  | { kind: 'redirect'; url: string }
  | { kind: 'post'; action: string; fields: Record<string, string>; spName: string }
  | { kind: 'page'; status: number; html: string }
) & { /** Set-Cookie lines to pass on (an in-process authorization's, inline-authorize.ts). */ cookies?: string[] };

export const endpointUrl = (c: Pick<SamlContext, 'issuer'>, path: string) => `${c.issuer}${path}`;
