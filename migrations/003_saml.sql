-- SAML 2.0 identity provider: the IdP certificate, parked AuthnRequests, request IDs already seen,
-- SP sessions (for single logout) and logouts in progress.

-- purpose 'saml' rows carry their self-signed X.509 certificate (PEM); NULL for the OIDC keys.
ALTER TABLE signing_keys ADD COLUMN certificate text;

-- An accepted AuthnRequest (or IdP-initiated start) while the browser runs the OIDC pipeline.
-- id is the `state` of the internal client's authorization request; single use (consumed_at).
CREATE TABLE saml_requests (
  id           text        PRIMARY KEY,
  sp_entity_id text        NOT NULL,
  acs_url      text        NOT NULL,
  request_id   text,                                  -- InResponseTo; NULL when IdP-initiated
  relay_state  text,
  browser_key  text        NOT NULL,                  -- MAC of the browser-binding cookie
  authn        jsonb       NOT NULL DEFAULT '{}',     -- what the request asked: passive, MFA, class to report
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  consumed_at  timestamptz
);
CREATE INDEX saml_requests_expires ON saml_requests (expires_at);

-- Replay guard: an inbound message ID is accepted once per issuer (INSERT … ON CONFLICT DO NOTHING).
CREATE TABLE saml_seen_ids (
  issuer     text        NOT NULL,
  message_id text        NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (issuer, message_id)
);
CREATE INDEX saml_seen_ids_expires ON saml_seen_ids (expires_at);

-- Which SPs hold an assertion from which gateway session (oidc-provider Session.uid, stable while the
-- session lives), with the NameID and SessionIndex they were given: what LogoutRequests name.
CREATE TABLE saml_sessions (
  session_uid    text        NOT NULL,
  sp_entity_id   text        NOT NULL,
  user_id        uuid        NOT NULL,
  name_id        text        NOT NULL,
  name_id_format text        NOT NULL,
  session_index  text        NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  PRIMARY KEY (session_uid, sp_entity_id)
);
CREATE INDEX saml_sessions_name_id ON saml_sessions (sp_entity_id, name_id);
CREATE INDEX saml_sessions_expires ON saml_sessions (expires_at);

-- A front-channel single logout in progress: the other SPs are visited one by one, then the initiator
-- gets its LogoutResponse.
CREATE TABLE saml_logouts (
  id           text        PRIMARY KEY,               -- RelayState of the LogoutRequests we send
  initiator    text        NOT NULL,                  -- SP entity ID
  request_id   text        NOT NULL,                  -- the initiator's LogoutRequest ID
  binding      text        NOT NULL,                  -- 'redirect' | 'post', how the initiator called
  relay_state  text,
  pending      jsonb       NOT NULL DEFAULT '[]',     -- SPs still to notify
  awaiting     jsonb,                                 -- { sp, requestId } of the LogoutRequest in flight
  partial      boolean     NOT NULL DEFAULT false,
  expires_at   timestamptz NOT NULL
);
CREATE INDEX saml_logouts_expires ON saml_logouts (expires_at);
