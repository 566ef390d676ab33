// Single logout (saml-profiles §4.4), front channel. An SP's signed LogoutRequest ends the gateway session
// it names (NameID + SessionIndex → Session.uid → oidc-provider Session destroyed, see oidc-session.ts);
// the other SPs of that session that registered an SLO endpoint are then visited one by one with our
// LogoutRequest (RelayState = the logout's id), and the initiator finally gets a signed LogoutResponse:
// Success, or Success/PartialLogout when another SP did not confirm.
// An OIDC logout (end_session, which the account portal's sign-out also uses) takes the same walk
// (afterOidcLogout, called from idp.ts): every SP of the ended session with an SLO endpoint is visited,
// and the last step is the redirect oidc-provider had answered with (the RP's post_logout_redirect_uri).
// A chain of top-level redirects, not iframes: the CSP (default-src 'none') allows no frame, SPs commonly
// forbid being framed, and a framed SP would not see its own session cookie (third-party cookies).
import { randomBytes } from 'node:crypto';
import { NS, PATHS, STATUS } from './constants.ts';
import type { Answer, SamlContext } from './context.ts';
import { endpointUrl } from './context.ts';
import { SamlError } from './errors.ts';
import { endGatewaySession } from './oidc-session.ts';
import { logoutRequestXml, statusResponseXml } from './templates.ts';
import { base64, newId, redirectUrl, signRoot } from './outbound.ts';
import type { Binding, WireMessage } from './request-guard.ts';
import type { SamlSp, SloEndpoint } from './sp-registry.ts';
import type { Logout, PendingSp } from './store.ts';
import { signedOutPage } from './views.ts';

const LOGOUT_TTL = 600;

const textOf = (root: Element, ns: string, name: string) =>
  Array.from(root.getElementsByTagNameNS(ns, name)).filter((e) => e.parentNode === root).map((e) => (e.textContent ?? '').trim());

export function createSlo(c: SamlContext) {
  const sloUrl = endpointUrl(c, PATHS.slo);

  /** Sends a message to an SP endpoint with its binding: a signed Redirect URL or a signed auto-post. */
  async function send(sp: SamlSp, ep: SloEndpoint, param: 'SAMLRequest' | 'SAMLResponse', xml: string, relayState: string | null, to: string): Promise<Answer> {
    const key = (await c.keys.load()).signing;
    if (ep.binding === 'redirect') return { kind: 'redirect', url: redirectUrl(to, param, xml, key, relayState ?? undefined) };
    return { kind: 'post', action: to, spName: sp.name, fields: { [param]: base64(signRoot(xml, key)), ...(relayState !== null ? { RelayState: relayState } : {}) } };
  }

  /**
   * The initiator's LogoutResponse, on the binding it used when it has an endpoint for it. A stored logout
   * (`stored`: the requestId of the step that just ended) is deleted with this answer, once.
   */
  async function respond(l: Logout, stored: string | null): Promise<Answer> {
    if (stored !== null && !await c.store.finishLogout(l.id, stored)) throw new SamlError('GW_SAML_UNEXPECTED_RESPONSE', 'logout already answered');
    if (l.binding === 'oidc') {
      if (l.partial) await c.s.audit.record({ type: 'saml.slo', outcome: 'info', clientId: l.initiator || null, reason: 'oidc_partial_logout' });
      return { kind: 'redirect', url: l.relayState ?? endpointUrl(c, '/') };
    }
    const sp = c.sps.byEntityId(l.initiator);
    const ep = sp?.slo.find((e) => e.binding === l.binding) ?? sp?.slo[0];
    if (!sp || !ep) return { kind: 'page', status: 200, html: signedOutPage(c.s.config.ui) };
    const to = ep.responseUrl ?? ep.url;
    const xml = statusResponseXml({
      root: 'LogoutResponse', id: newId(), issuer: c.idpEntityId, destination: to, inResponseTo: l.requestId,
      status: l.partial ? [STATUS.success, STATUS.partialLogout] : [STATUS.success], now: new Date(),
    });
    return send(sp, ep, 'SAMLResponse', xml, l.relayState, to);
  }

  /**
   * Visits the next SP with an SLO endpoint, or answers the initiator when none is left. `stored`: null for
   * a logout that starts here (it is stored only when an SP is to be visited, already at that step: one
   * INSERT), else the requestId of the step that just ended (the stored logout moves on once).
   */
  async function next(l: Logout, stored: string | null): Promise<Answer> {
    const pending = [...l.pending];
    for (let p = pending.shift(); p; p = pending.shift()) {
      const sp = c.sps.byEntityId(p.sp);
      const ep = sp?.slo.find((e) => e.binding === 'redirect') ?? sp?.slo[0];
      if (!sp || !ep) continue;
      const step = { pending, awaiting: { sp: sp.entityId, requestId: newId() }, partial: l.partial };
      if (stored === null) await c.store.createLogout({ ...l, ...step }, LOGOUT_TTL);
      else if (!await c.store.advanceLogout(l.id, stored, step)) throw new SamlError('GW_SAML_UNEXPECTED_RESPONSE', 'logout already moved on');
      const now = new Date();
      const xml = logoutRequestXml({
        id: step.awaiting.requestId, issuer: c.idpEntityId, destination: ep.url, nameId: p.nameId, nameIdFormat: p.nameIdFormat,
        spEntityId: sp.entityId, sessionIndex: p.sessionIndex, now, notOnOrAfter: new Date(now.getTime() + LOGOUT_TTL * 1000),
      });
      return send(sp, ep, 'SAMLRequest', xml, l.id, ep.url);
    }
    return respond(l, stored);
  }

  async function logoutRequest(wire: WireMessage): Promise<Answer> {
    // LogoutRequests are always signed: an unsigned one would let any page sign a user out.
    const m = await c.guard(wire, { param: 'SAMLRequest', kinds: ['LogoutRequest'], destination: sloUrl, mustSign: () => true });
    const nameIds = textOf(m.root, NS.assertion, 'NameID');
    if (nameIds.length !== 1 || !nameIds[0]) throw new SamlError('GW_SAML_SCHEMA', 'LogoutRequest needs one plain NameID (EncryptedID is not supported)');
    const sessions = await c.store.sessionsNamed(m.sp.entityId, nameIds[0], textOf(m.root, NS.protocol, 'SessionIndex'));
    const pending: PendingSp[] = [];
    let userId: string | null = null;
    for (const uid of new Set(sessions.map((s) => s.sessionUid))) {
      const all = await c.store.sessionsOf(uid);
      pending.push(...all.filter((s) => s.spEntityId !== m.sp.entityId)
        .map((s) => ({ sp: s.spEntityId, nameId: s.nameId, nameIdFormat: s.nameIdFormat, sessionIndex: s.sessionIndex })));
      userId = all[0]?.userId ?? userId;
      await endGatewaySession(c.holder.current(), c.s.db, c.s.log, uid);
      await c.store.endSessions(uid);
    }
    await c.s.audit.record({ type: 'saml.slo', outcome: 'success', userId, clientId: m.sp.entityId, detail: { sessions: sessions.length, notify: pending.map((p) => p.sp) } });
    const l: Logout = {
      id: randomBytes(24).toString('base64url'), initiator: m.sp.entityId, requestId: m.id, binding: m.binding as Binding,
      relayState: m.relayState ?? null, pending, awaiting: null, partial: false,
    };
    return next(l, null);
  }

  async function logoutResponse(wire: WireMessage): Promise<Answer> {
    const l = wire.fields.RelayState ? await c.store.logout(wire.fields.RelayState) : undefined;
    if (!l?.awaiting) throw new SamlError('GW_SAML_UNEXPECTED_RESPONSE', 'no logout in progress for this RelayState');
    const m = await c.guard(wire, { param: 'SAMLResponse', kinds: ['LogoutResponse'], destination: sloUrl, mustSign: () => false });
    if (m.issuer !== l.awaiting.sp || m.root.getAttribute('InResponseTo') !== l.awaiting.requestId) {
      throw new SamlError('GW_SAML_UNEXPECTED_RESPONSE', 'issuer or InResponseTo does not match the LogoutRequest sent');
    }
    const status = Array.from(m.root.getElementsByTagNameNS(NS.protocol, 'StatusCode'))[0]?.getAttribute('Value');
    return next({ ...l, partial: l.partial || status !== STATUS.success }, l.awaiting.requestId);
  }

  return {
    /** /saml/slo: a LogoutRequest from an SP, or the LogoutResponse of an SP we notified. */
    handle(wire: WireMessage): Promise<Answer> {
      if (wire.fields.SAMLRequest !== undefined && wire.fields.SAMLResponse !== undefined) throw new SamlError('GW_SAML_MALFORMED', 'both SAMLRequest and SAMLResponse');
      if (wire.fields.SAMLRequest !== undefined) return logoutRequest(wire);
      if (wire.fields.SAMLResponse !== undefined) return logoutResponse(wire);
      throw new SamlError('GW_SAML_MALFORMED', 'no SAMLRequest or SAMLResponse');
    },

    /**
     * oidc-provider's end_session destroyed a session: the SAML sessions riding on it end too, and the SPs
     * among them with an SLO endpoint are sent our LogoutRequest through the browser, one after the other.
     * Returns the first step (or null when no SP has to be told); `continueTo` is where the browser goes
     * after the last SP answered.
     */
    async afterOidcLogout(o: { sessionUid: string; accountId?: string; clientId?: string; continueTo: string }): Promise<Answer | null> {
      const sessions = await c.store.sessionsOf(o.sessionUid);
      if (sessions.length === 0) return null;
      await c.store.endSessions(o.sessionUid);
      const pending: PendingSp[] = sessions.filter((s) => (c.sps.byEntityId(s.spEntityId)?.slo.length ?? 0) > 0)
        .map((s) => ({ sp: s.spEntityId, nameId: s.nameId, nameIdFormat: s.nameIdFormat, sessionIndex: s.sessionIndex }));
      await c.s.audit.record({
        type: 'saml.slo', outcome: 'info', userId: o.accountId ?? null, clientId: o.clientId ?? null, reason: 'oidc_end_session',
        detail: { sessions: sessions.length, notify: pending.map((p) => p.sp) },
      });
      if (pending.length === 0) return null;
      const l: Logout = {
        id: randomBytes(24).toString('base64url'), initiator: o.clientId ?? '', requestId: '', binding: 'oidc',
        relayState: o.continueTo, pending, awaiting: null, partial: false,
      };
      return next(l, null);
    },
  };
}
export type Slo = ReturnType<typeof createSlo>;
