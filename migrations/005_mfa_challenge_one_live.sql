-- At most one unspent challenge per interaction and factor. Two requests that start the same factor at once
-- (a double-clicked password form, two tabs on one factor screen) share one challenge and so one budget of
-- tries, instead of getting one each (mfa/challenges.ts create: a live one is kept, an expired one replaced,
-- and a redirect factor's newest vendor state replaces the earlier one).
-- Existing duplicates: all but the newest unspent one of each interaction and factor are marked spent.
UPDATE mfa_challenges c SET consumed_at = now()
  WHERE c.consumed_at IS NULL AND EXISTS (
    SELECT 1 FROM mfa_challenges n
    WHERE n.interaction_uid = c.interaction_uid AND n.factor = c.factor AND n.consumed_at IS NULL
      AND (n.expires_at, n.id) > (c.expires_at, c.id));
CREATE UNIQUE INDEX mfa_challenges_one_live ON mfa_challenges (interaction_uid, factor) WHERE consumed_at IS NULL;
