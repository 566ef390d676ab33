// What a newcomer sees after `npm start`: where the gateway is and what to do next. No secrets.
import type { Config } from '../config/schema.ts';

export function banner(config: Config, issuer: string, dbKind: string, users: number): string {
  const lines = [
    '',
    `  Gatehouse is running (${config.mode}, ${dbKind === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL'})`,
    '',
    `  Issuer:     ${issuer}`,
    `  Discovery:  ${issuer}/.well-known/openid-configuration`,
    `  Health:     ${issuer}/healthz   ${issuer}/readyz`,
    ...(config.saml.enabled ? [`  SAML IdP:   ${issuer}/saml/metadata${config.saml.sps.length ? '' : '   (no SPs yet: add them under saml.sps, docs/saml.md)'}`] : []),
    ...(config.account.enabled ? [`  Account:    ${issuer}/account`] : []),
    ...(config.metrics.enabled ? [`  Metrics:    ${config.metrics.port ? `port ${config.metrics.port} /metrics` : `${issuer}/metrics`}`] : []),
    '',
  ];
  if (users === 0) lines.push('  Next: create a user       npx gatehouse user add alice --name "Alice Example" --email alice@example.com');
  if (config.oidc.clients.length === 0) lines.push('  Next: register a client   add it under oidc.clients in a config file (see config/gatehouse.example.yaml), GATEHOUSE_CONFIG=that-file npm start');
  lines.push('', '');
  return lines.join('\n');
}
