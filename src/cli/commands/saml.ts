// `gatehouse saml rotate-key`: a new SAML signing key and certificate; the previous certificate stays in
// the metadata for saml.keyRotationGraceSeconds so SPs that cached it keep verifying.
import type { Command } from '../command.ts';
import { rotateSamlKey } from '../../protocols/saml/idp-keys.ts';
import { resolveIssuer } from '../../app.ts';

export const samlRotateKeyCommand: Command = {
  name: 'saml rotate-key',
  summary: 'Create a new SAML signing key and certificate; the previous certificate stays in the metadata',
  details: 'New assertions are signed with the new key at once; the old certificate stays published in /saml/metadata\n' +
    'for saml.keyRotationGraceSeconds. Not available when the key comes from files (saml.keyFile/certFile).',
  async run(ctx) {
    const { config, services } = await ctx.open();
    const { kid, certificate } = await rotateSamlKey(services, resolveIssuer(config));
    ctx.out(`New SAML signing key: ${kid}`);
    ctx.out('Its certificate (also in /saml/metadata):');
    for (const line of certificate.trim().split('\n')) ctx.out(line);
  },
};
