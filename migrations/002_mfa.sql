-- The MFA step: TOTP enrollment, recovery codes, and per-interaction challenges (TOTP tries, Duo state).

CREATE TABLE mfa_totp (
  user_id      uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  secret_enc   text        NOT NULL,                  -- base32 seed, AES-GCM under the master secret
  confirmed_at timestamptz,                           -- NULL while enrollment awaits its first code
  last_step    bigint      NOT NULL DEFAULT 0,        -- highest accepted RFC 6238 time step (replay guard, §5.2)
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mfa_recovery_codes (
  user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash  text        NOT NULL,                    -- HMAC-SHA256 under a key derived from the master secret
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, code_hash)
);

-- One row per factor attempt inside a login. For Duo the id is the OAuth `state` sent to Duo.
CREATE TABLE mfa_challenges (
  id              text        PRIMARY KEY,
  interaction_uid text        NOT NULL,
  factor          text        NOT NULL,
  user_id         uuid        NOT NULL,
  state           jsonb       NOT NULL DEFAULT '{}',
  attempts        integer     NOT NULL DEFAULT 0,
  expires_at      timestamptz NOT NULL,
  consumed_at     timestamptz
);
CREATE INDEX mfa_challenges_interaction ON mfa_challenges (interaction_uid);
CREATE INDEX mfa_challenges_expires ON mfa_challenges (expires_at);

ALTER TABLE users ADD COLUMN preferred_factor text;
