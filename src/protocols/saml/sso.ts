// Single sign-on: SP-initiated (/saml/sso, both bindings) and IdP-initiated (/saml/init) send the login into
// the OIDC pipeline (bridge.ts): in-process for a browser with a session (inline-authorize.ts), else by parking
// the request and sending the browser to /oidc/auth, back at /saml/continue. The result becomes a signed
// Response auto-posted to the ACS chosen at the start, never to anything the SP did not register.
import { randomBytes } from 'node:crypto';
import { ACR_PASSWORD, acrFor, hasMfa } from '../../mfa/amr.ts';
import { BINDING, NAMEID_FORMAT, NS, PATHS, STATUS } from './constants.ts';
import type { Answer, SamlContext } from './context.ts';
import { endpointUrl } from './context.ts';
import { SamlError } from './errors.ts';
import { requestedAuthnContext } from './authn-context.ts';
import { authorizeUrl, continueUrl, exchangeCode } from './bridge.ts';
import { nameIdFor, releasedAttributes } from './assertion.ts';
import { loginResponseXml, statusResponseXml } from './templates.ts';
import { base64, newId, signLoginResponse, signRoot } from './outbound.ts';
import { defaultAcs, type Acs, type SamlSp } from './sp-registry.ts';
import type { Inbound, WireMessage } from './request-guard.ts';
import type { AuthnAsked, ParkedRequest } from './store.ts';
import { authorizeInline, hasSessionCookie } from './inline-authorize.ts';
import type { FromBrowser } from '../oidc/in-process.ts';
import { attrOf } from './xml-guard.ts';
import { afterCommit } from '../../storage/unit-of-work.ts';

/** The browser behind a login request: its binding key (routes.ts) and what an in-process authorization forwards. */
export interface Browser extends FromBrowser { key: string }

const PASSIVE_ERRORS = new Set(['login_required', 'interaction_required', 'consent_required', 'account_selection_required']);

/** The ACS for this request: by index or exact URL, registered for HTTP-POST; otherwise the default. */
export function chooseAcs(m: Inbound): Acs {
  const url = attrOf(m.root, 'AssertionConsumerServiceURL');
  const index = attrOf(m.root, 'AssertionConsumerServiceIndex');
  const binding = attrOf(m.root, 'ProtocolBinding');
  if (url !== null && index !== null) throw new SamlError('GW_SAML_SCHEMA', 'both AssertionConsumerServiceURL and AssertionConsumerServiceIndex');
  if (binding !== null && binding !== BINDING.post) throw new SamlError('GW_SAML_BINDING', `ProtocolBinding ${binding.slice(0, 200)}`);
  if (index !== null) {
    const found = /^\d{1,5}$/.test(index) ? m.sp.acs.find((a) => a.index === Number(index)) : undefined;
    if (!found) throw new SamlError('GW_SAML_ACS_UNKNOWN', `index ${index.slice(0, 20)} not registered`);
    return found;
  }
  if (url !== null) {
    const found = m.sp.acs.find((a) => a.url === url);
    if (!found) throw new SamlError('GW_SAML_ACS_UNKNOWN', `URL ${url.slice(0, 300)} not registered`);
    return found;
  }
  return defaultAcs(m.sp);
}

function checkNameIdPolicy(m: Inbound) {
  const policy = Array.from(m.root.getElementsByTagNameNS(NS.protocol, 'NameIDPolicy')).find((e) => e.parentNode === m.root);
  const format = policy?.getAttribute('Format');
  if (format && format !== NAMEID_FORMAT.unspecified && format !== NAMEID_FORMAT[m.sp.nameIdFormat]) {
    throw new SamlError('GW_SAML_NAMEID_POLICY', `asked ${format.slice(0, 200)}, registered ${m.sp.nameIdFormat}`);
  }
}

export function createSso(c: SamlContext) {
  const log = c.s.log;

  /** A signed Response carrying only a status, to a registered ACS (the request was sound; the answer is no). */
  async function statusAnswer(sp: SamlSp, acsUrl: string, inResponseTo: string | null, relayState: string | null, err: SamlError): Promise<Answer> {
    const key = (await c.keys.load()).signing;
    const xml = statusResponseXml({
      root: 'Response', id: newId(), issuer: c.idpEntityId, destination: acsUrl, ...(inResponseTo ? { inResponseTo } : {}),
      status: err.samlStatus ?? [STATUS.responder], message: err.code, now: new Date(),
    });
    log.info({ sp: sp.entityId, samlError: err.code, detail: err.detail }, `saml sso answered with a status: ${err.code}`);
    await c.s.audit.record({ type: 'saml.sso', outcome: 'failure', clientId: sp.entityId, reason: err.code });
    return { kind: 'post', action: acsUrl, spName: sp.name, fields: { SAMLResponse: base64(signRoot(xml, key)), ...(relayState !== null ? { RelayState: relayState } : {}) } };
  }

  /**
   * Sends the login into the OIDC pipeline as the SP's internal client. A browser with a gateway session
   * has its authorization request made in-process (inline-authorize.ts): signed in, it gets the Response
   * at once; otherwise the request is parked for /saml/continue and the browser goes where oidc-provider
   * sends it. A browser without one is parked and sent to the authorization endpoint.
   */
  async function begin(sp: SamlSp, acsUrl: string, requestId: string | null, relayState: string | null, browser: Browser, authn: AuthnAsked, prompt?: 'login' | 'none'): Promise<Answer> {
    const request: ParkedRequest = { id: randomBytes(24).toString('base64url'), spEntityId: sp.entityId, acsUrl, requestId, relayState, browserKey: browser.key, authn };
    const url = await authorizeUrl(c.issuer, c.s.box, sp, request.id, { ...(prompt ? { prompt } : {}), ...(authn.requireMfa ? { requireMfa: true } : {}) });
    let answer: Answer = { kind: 'redirect', url };
    if (hasSessionCookie(c.issuer, browser.cookie)) {
      const inline = await authorizeInline(c.holder, url, continueUrl(c.issuer), browser);
      if (inline.kind === 'continue') {
        if (inline.query.state !== request.id) throw new SamlError('GW_SAML_AUTHN_FAILED', 'state of another request');
        return { ...(await respond(request, inline.query)), cookies: inline.cookies };
      }
      answer = { kind: 'redirect', url: inline.url, cookies: inline.cookies };
    }
    await c.store.park(request, c.s.config.oidc.interactionTtlSeconds + 60);
    return answer;
  }

  /** The OIDC pipeline's answer (code or error) to a login request becomes the SAML Response. */
  async function respond(parked: ParkedRequest, q: Record<string, string | undefined>): Promise<Answer> {
    const sp = c.sps.byEntityId(parked.spEntityId);
    if (!sp || !sp.acs.some((a) => a.url === parked.acsUrl)) throw new SamlError('GW_SAML_EXPIRED', 'SP or ACS no longer registered');
    const fail = (err: SamlError) => statusAnswer(sp, parked.acsUrl, parked.requestId, parked.relayState, err);
    if (q.iss !== undefined && q.iss !== c.issuer) return fail(new SamlError('GW_SAML_AUTHN_FAILED', 'iss mismatch'));
    if (q.error || !q.code) {
      const passive = parked.authn.passive && PASSIVE_ERRORS.has(q.error ?? '');
      return fail(new SamlError(passive ? 'GW_SAML_NO_PASSIVE' : 'GW_SAML_AUTHN_FAILED', `oidc error ${String(q.error).slice(0, 60)}`));
    }
    try {
      const signIn = await exchangeCode(c.holder.current(), c.s.db, c.issuer, c.s.box, sp, q.code, parked.id);
      // Read with the code (users.ts ACCOUNT_JSON), or in-process with the session: no statement of its own.
      const user = await c.s.users.findAccount(signIn.sub);
      if (!user || user.disabled) throw new SamlError('GW_SAML_AUTHN_FAILED', 'user missing or disabled');
      // The gateway never claims more than happened: no MFA in amr means no MFA class, and an SP that
      // demanded it is told NoAuthnContext (e.g. after a Duo fail-open).
      if (parked.authn.requireMfa && !hasMfa(signIn.amr)) throw new SamlError('GW_SAML_NO_AUTHN_CONTEXT', `amr ${signIn.amr.join(' ')}`);
      const authnClass = parked.authn.reportPasswordClass ? ACR_PASSWORD : acrFor(signIn.amr);
      // Derived from this gateway session, user and SP (an HMAC under the gateway's key), not stored and
      // read back: stable for as long as the session lasts, unlinkable across sessions and SPs, and the
      // saml_sessions upsert joins the request's commit without a SELECT before it.
      const derived = (purpose: string) => `_${Buffer.from(c.s.box.mac(purpose, `${signIn.sessionUid}\n${sp.entityId}\n${user.id}`), 'base64url').toString('hex').slice(0, 40)}`;
      const nameId = nameIdFor(sp, user, c.s.box, derived('saml-transient-nameid'));
      const sessionIndex = derived('saml-session-index');
      await c.store.recordSession({
        sessionUid: signIn.sessionUid, spEntityId: sp.entityId, userId: user.id, nameId: nameId.value,
        nameIdFormat: nameId.format, sessionIndex,
      }, c.s.config.oidc.sessionTtlSeconds);

      const key = (await c.keys.load()).signing;
      const now = new Date();
      const cfg = c.s.config.saml;
      const responseId = newId();
      const assertionId = newId();
      const xml = loginResponseXml({
        responseId, assertionId, issuer: c.idpEntityId, audience: sp.entityId, destination: parked.acsUrl,
        ...(parked.requestId ? { inResponseTo: parked.requestId } : {}),
        nameId: nameId.value, nameIdFormat: nameId.format, ...(nameId.spNameQualifier ? { spNameQualifier: nameId.spNameQualifier } : {}),
        sessionIndex, authnInstant: new Date(signIn.authTime * 1000), authnClass, attributes: releasedAttributes(sp, user), now,
        notBefore: new Date(now.getTime() - cfg.clockSkewSeconds * 1000), notOnOrAfter: new Date(now.getTime() + cfg.assertionTtlSeconds * 1000),
      });
      const samlResponse = await signLoginResponse({ idpEntityId: c.idpEntityId, issuer: c.issuer, key, sp, acsUrl: parked.acsUrl, ...(parked.requestId ? { inResponseTo: parked.requestId } : {}), responseId, assertionId, xml });
      // Counted once the request's commit won its one-time values (the parked request and the code, or in-process
      // the message ID's first use): a parallel loser hands out nothing.
      afterCommit(() => c.s.metrics.issued.inc({ kind: 'saml_assertion' }));
      await c.s.audit.record({ type: 'saml.sso', outcome: 'success', userId: user.id, username: user.username, clientId: sp.entityId, detail: { amr: signIn.amr, authnClass, idpInitiated: !parked.requestId } });
      return { kind: 'post', action: parked.acsUrl, spName: sp.name, fields: { SAMLResponse: samlResponse, ...(parked.relayState !== null ? { RelayState: parked.relayState } : {}) } };
    } catch (err) {
      if (err instanceof SamlError && err.samlStatus) return fail(err);
      throw err;
    }
  }

  const acceptAuthnRequest = (wire: WireMessage) => c.guard(wire, {
    param: 'SAMLRequest', kinds: ['AuthnRequest'], destination: endpointUrl(c, PATHS.sso),
    mustSign: (sp) => sp.requireSignedRequests,
  });

  return {
    /**
     * An AuthnRequest's error-page checks alone (the guard and the ACS), for a request the browser is asked
     * to send again from the gateway's own page (first-party-resend.ts): only a sound request makes that
     * trip. The message ID's first use is queued, not written: the caller discards its unit.
     */
    async check(wire: WireMessage): Promise<SamlSp> {
      const m = await acceptAuthnRequest(wire);
      chooseAcs(m);
      return m.sp;
    },

    /** An AuthnRequest arriving at /saml/sso. */
    async start(wire: WireMessage, browser: Browser): Promise<Answer> {
      const m = await acceptAuthnRequest(wire);
      const acs = chooseAcs(m); // an unregistered ACS gets the error page: nothing is posted anywhere
      const relayState = m.relayState ?? null;
      try {
        checkNameIdPolicy(m);
        const need = requestedAuthnContext(m.root);
        const passive = m.root.getAttribute('IsPassive') === 'true';
        const force = m.root.getAttribute('ForceAuthn') === 'true';
        if (passive && force) throw new SamlError('GW_SAML_NO_PASSIVE', 'IsPassive with ForceAuthn');
        const authn: AuthnAsked = { passive, requireMfa: need.requireMfa, reportPasswordClass: need.reportPasswordClass };
        return await begin(m.sp, acs.url, m.id, relayState, browser, authn, force ? 'login' : passive ? 'none' : undefined);
      } catch (err) {
        if (err instanceof SamlError && err.samlStatus) return statusAnswer(m.sp, acs.url, m.id, relayState, err);
        throw err;
      }
    },

    /** /saml/init?sp=<entityID>: IdP-initiated, only for SPs that opted in. */
    async startIdpInitiated(entityId: string, browser: Browser): Promise<Answer> {
      const sp = c.sps.byEntityId(entityId);
      if (!sp) throw new SamlError('GW_SAML_UNKNOWN_SP', `init for ${entityId.slice(0, 200)}`);
      if (!sp.allowIdpInitiated) throw new SamlError('GW_SAML_IDP_INIT_DISABLED', sp.entityId);
      return begin(sp, defaultAcs(sp).url, null, sp.idpInitiatedRelayState ?? null, browser, {});
    },

    /** /saml/continue: the browser back from the OIDC pipeline. */
    async finish(q: Record<string, string | undefined>, browserKey: string | undefined): Promise<Answer> {
      // Bound to the browser that started: a link carrying someone else's code must not log this browser in.
      const parked = q.state ? await c.store.take(q.state, browserKey ?? '-') : undefined;
      if (parked === 'mismatch') throw new SamlError('GW_SAML_BROWSER_MISMATCH', 'parked request belongs to another browser');
      if (!parked) throw new SamlError('GW_SAML_EXPIRED', 'no such parked request');
      return respond(parked, q);
    },
  };
}
export type Sso = ReturnType<typeof createSso>;
