-- +goose Up
-- Sign-in protection. Throttle keys now name accounts only by a keyed hash of
-- the typed username (a password typed into the username box must not sit in
-- this table), and there are two more kinds of key: the account on its own
-- ('user:<hash>', the ceiling across all addresses) and a known device
-- ('device:<id>|<hash>'). A count may drop to zero: the attempt counted when
-- it was admitted is taken back when it succeeds, and concurrent sign-ins
-- can do that in any order. refused counts the attempts turned away while the
-- key was blocked, so the audit trail records one count per key and window
-- instead of one event per attempt.
DELETE FROM sign_in_failures; -- the old keys held usernames as typed
ALTER TABLE sign_in_failures
    DROP CONSTRAINT sign_in_failures_key_check,
    DROP CONSTRAINT sign_in_failures_failures_check,
    ADD CONSTRAINT sign_in_failures_key_check CHECK (key ~ '^(addr|account|user|device):' AND length(key) <= 200),
    ADD CONSTRAINT sign_in_failures_failures_check CHECK (failures >= 0),
    ADD COLUMN refused integer NOT NULL DEFAULT 0 CHECK (refused >= 0),
    ADD COLUMN refused_since timestamptz;

-- Secrets this deployment generates for itself on first use: the key of the
-- username hash. It never leaves the database.
CREATE TABLE identity_keys (
    name       text PRIMARY KEY,
    key        bytea NOT NULL CHECK (length(key) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE identity_keys;
DELETE FROM sign_in_failures;
ALTER TABLE sign_in_failures
    DROP COLUMN refused_since,
    DROP COLUMN refused,
    DROP CONSTRAINT sign_in_failures_key_check,
    DROP CONSTRAINT sign_in_failures_failures_check,
    ADD CONSTRAINT sign_in_failures_key_check CHECK (key LIKE 'addr:%' OR key LIKE 'account:%'),
    ADD CONSTRAINT sign_in_failures_failures_check CHECK (failures > 0);
