// What an SP learns about the user: the NameID (per its format and source) and the attributes its
// mapping releases. Only mapped attributes leave the gateway.
import { randomBytes } from 'node:crypto';
import type { SecretBox } from '../../platform/secret-box.ts';
import type { AccountRow } from '../../users/users.ts';
import { NAMEID_FORMAT } from './constants.ts';
import { SamlError } from './errors.ts';
import type { AttributeSource, SamlSp } from './sp-registry.ts';
import type { ReleasedAttribute } from './templates.ts';

function values(user: AccountRow, source: AttributeSource): string[] {
  switch (source) {
    case 'id': return [user.id];
    case 'username': return [user.username];
    case 'email': return user.email ? [user.email] : [];
    case 'name': return user.name ? [user.name] : [];
    case 'groups': return [...user.groups];
    case 'emailVerified': return user.email ? [String(user.emailVerified)] : [];
    default: return [];
  }
}

export function releasedAttributes(sp: SamlSp, user: AccountRow): ReleasedAttribute[] {
  return sp.attributes.flatMap((a) => {
    const v = values(user, a.source);
    return v.length ? [{ name: a.name, nameFormat: a.nameFormat, values: v, ...(a.friendlyName ? { friendlyName: a.friendlyName } : {}) }] : [];
  });
}

/**
 * The NameID for this SP. Transient ones are per gateway session (`transient`: sso.ts derives it from the
 * session, so it stays stable while the session lasts; random when not given); pairwise ones are an HMAC of
 * the user and the SP, so two SPs cannot correlate users.
 */
export function nameIdFor(sp: SamlSp, user: AccountRow, box: SecretBox, transient?: string): { value: string; format: string; spNameQualifier?: string } {
  const format = NAMEID_FORMAT[sp.nameIdFormat];
  const qualified = sp.nameIdFormat === 'persistent' || sp.nameIdFormat === 'transient' ? { spNameQualifier: sp.entityId } : {};
  if (sp.nameIdFormat === 'transient') return { value: transient ?? `_${randomBytes(20).toString('hex')}`, format, ...qualified };
  let value: string | null = null;
  switch (sp.nameIdSource) {
    case 'id': value = user.id; break;
    case 'pairwise': value = box.mac('saml-pairwise', `${sp.entityId}\n${user.id}`); break;
    case 'username': value = user.username; break;
    case 'email': value = user.email; break;
  }
  if (!value) throw new SamlError('GW_SAML_NAMEID_POLICY', `user has no ${sp.nameIdSource}`);
  return { value, format, ...qualified };
}
