-- Core: oidc-provider models, users, signing keys, login throttling, audit log.

-- Every oidc-provider model (Session, Interaction, AuthorizationCode, RefreshToken, Grant, …) in one table.
-- grant_id / uid / user_code are copied out of the payload on upsert so lookups use plain indexes.
CREATE TABLE oidc_models (
  model       text        NOT NULL,
  id          text        NOT NULL,
  payload     jsonb       NOT NULL,
  grant_id    text,
  uid         text,
  user_code   text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_models_grant_id ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_models_uid ON oidc_models (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_models_user_code ON oidc_models (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_models_expires_at ON oidc_models (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE users (
  id                  uuid        PRIMARY KEY,          -- the OIDC `sub`: stable, never the username
  username            text        NOT NULL,
  name                text,
  email               text,
  email_verified      boolean     NOT NULL DEFAULT false,
  groups              text[]      NOT NULL DEFAULT '{}',
  duo_alias           text,
  password_hash       text        NOT NULL,
  password_changed_at timestamptz NOT NULL DEFAULT now(),
  disabled            boolean     NOT NULL DEFAULT false,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));

-- Signing keys: private JWK encrypted with a key derived from GATEHOUSE_SECRET (AES-256-GCM).
CREATE TABLE signing_keys (
  kid          text        PRIMARY KEY,
  purpose      text        NOT NULL DEFAULT 'oidc',     -- 'oidc' | 'saml'
  alg          text        NOT NULL,
  private_enc  text        NOT NULL,
  public_jwk   jsonb       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  retired_at   timestamptz,                             -- no longer signs
  unpublish_at timestamptz                              -- no longer in the JWKS
);
-- At most one current key per purpose and algorithm (the advisory lock in ensure() is the first guard).
CREATE UNIQUE INDEX signing_keys_current ON signing_keys (purpose, alg) WHERE retired_at IS NULL;

-- Failure counters shared by every instance: per account (lockout) and per IP (rate limit).
CREATE TABLE login_throttle (
  key          text        PRIMARY KEY,                 -- 'acct:<lower(username)>' | 'ip:<address>'
  failures     integer     NOT NULL DEFAULT 0,
  window_start timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_events (
  id        bigserial   PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  type      text        NOT NULL,
  outcome   text        NOT NULL,
  user_id   uuid,
  username  text,
  client_id text,
  ip        text,
  factor    text,
  reason    text,
  detail    jsonb
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_user ON audit_events (user_id, at) WHERE user_id IS NOT NULL;
