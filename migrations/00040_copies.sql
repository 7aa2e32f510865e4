-- +goose Up
-- Each team's rules for its restores, set by the admins: how many days a
-- restored copy may be kept at most, whether prepaid copies are allowed,
-- whether a copy past its time is only reported (overdue) instead of being
-- deleted, and the monthly estimate (CNY) above which a request needs a
-- second approving lead (NULL: never).
ALTER TABLE teams
    ADD COLUMN max_keep_days        int NOT NULL DEFAULT 14 CHECK (max_keep_days BETWEEN 1 AND 365),
    ADD COLUMN prepaid_allowed      boolean NOT NULL DEFAULT false,
    ADD COLUMN remind_only          boolean NOT NULL DEFAULT false,
    ADD COLUMN second_lead_above    numeric(12, 2) CHECK (second_lead_above IS NULL OR second_lead_above >= 0);

-- "Keep for" N days, counted from Ready. NULL: the request was filed before
-- copies had a lifetime, so its copy has no deletion time.
ALTER TABLE restore_requests
    ADD COLUMN keep_days int CHECK (keep_days IS NULL OR keep_days BETWEEN 1 AND 365);

-- A copy is an instance a request created (its own, or a duplicate found by
-- the tag search). It lives on after the request is finished, until it is
-- deleted. delete_at NULL means "not set": never deleted automatically.
-- delete_sent_at is committed before deleteInstance is called, so a delete
-- that may have happened is never mistaken for one that did not.
CREATE TABLE copies (
    id             bigserial PRIMARY KEY,
    request_id     bigint NOT NULL REFERENCES restore_requests (id),
    region         text NOT NULL,
    instance_id    text NOT NULL CHECK (instance_id <> ''),
    duplicate      boolean NOT NULL DEFAULT false, -- not the request's own instance
    prepaid        boolean NOT NULL DEFAULT false,
    state          text NOT NULL DEFAULT 'running' CHECK (state IN (
                       'running', 'deleting', 'deleted', 'delete_failed', 'gone_outside', 'overdue')),
    delete_at      timestamptz,
    delete_sent_at timestamptz,
    delete_requested_at timestamptz,               -- "Delete now": a person asked, so remind-only does not hold it back
    delete_attempts int NOT NULL DEFAULT 0,
    failure        jsonb,                          -- why the delete failed: reason, JD Cloud's message and request id
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,                    -- deleted, gone or given up
    UNIQUE (region, instance_id)
);
-- A request's copies in the page's order; the due ones; the Live copies
-- page's oldest-first list, in index order.
CREATE INDEX copies_request ON copies (request_id, duplicate, id);
CREATE INDEX copies_due ON copies (delete_at) WHERE state IN ('running', 'deleting');
CREATE INDEX copies_live ON copies (created_at, id) WHERE state IN ('running', 'deleting', 'delete_failed', 'overdue');

-- Copies of the requests that are ready or failed with an instance before
-- this version: they have no deletion time and are never deleted
-- automatically; a lead can set one.
INSERT INTO copies (request_id, region, instance_id, created_at)
SELECT id, region, instance_id, COALESCE(finished_at, now())
FROM restore_requests
WHERE instance_id <> '' AND status IN ('ready', 'failed')
ON CONFLICT DO NOTHING;
INSERT INTO copies (request_id, region, instance_id, duplicate, created_at)
SELECT request_id, region, instance_id, true, found_at
FROM duplicate_instances
ON CONFLICT DO NOTHING;

-- +goose Down
DROP TABLE copies;
ALTER TABLE restore_requests DROP COLUMN keep_days;
ALTER TABLE teams
    DROP COLUMN second_lead_above,
    DROP COLUMN remind_only,
    DROP COLUMN prepaid_allowed,
    DROP COLUMN max_keep_days;
