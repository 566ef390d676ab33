-- The self-service account portal (/account) and the admin's one-time bypass codes.

-- The portal's browser state (@fastify/session): CSRF secret, who is signed in, when the second factor
-- was last completed, pending sign-ins. user_id is copied out of data so that a password change or
-- "sign out everywhere" can end a user's other portal sessions with one indexed DELETE.
CREATE TABLE account_sessions (
  sid        text        PRIMARY KEY,
  user_id    uuid,
  data       jsonb       NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX account_sessions_user ON account_sessions (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX account_sessions_expires ON account_sessions (expires_at);

-- Issued by an admin (`gatehouse user bypass-code`) for a user who lost their factor: usable once, at the
-- MFA step, until it expires. Only a keyed hash is stored; issuing a new code voids the unused ones.
CREATE TABLE mfa_bypass_codes (
  id         bigserial   PRIMARY KEY,
  user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash  text        NOT NULL,                    -- HMAC-SHA256 under a key derived from the master secret
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX mfa_bypass_codes_user ON mfa_bypass_codes (user_id) WHERE used_at IS NULL;
