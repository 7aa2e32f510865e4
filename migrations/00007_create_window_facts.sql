-- +goose Up
-- The at-most-once protocol reasons from facts on the database's clock:
--   create_ended_at  when the last create call ended (its answer, its error, or
--                    the moment the client gave up), read right after it;
--   retry_since      when the current run of certainly-not-performed creates
--                    (429, refused before sending) began: they are retried
--                    within a time budget, not a number of attempts;
--   recheck_tag      a create was concluded "not performed" after an
--                    unanswered send, so JD Cloud may still carry it out late;
--   tag_check_at     when the one more tag search that such a request gets is
--                    due (whatever the request's status by then), and
--   tag_check_tries  how often it has failed so far.
ALTER TABLE restore_requests
    ADD COLUMN create_ended_at timestamptz,
    ADD COLUMN retry_since     timestamptz,
    ADD COLUMN recheck_tag     boolean NOT NULL DEFAULT false,
    ADD COLUMN tag_check_at    timestamptz,
    ADD COLUMN tag_check_tries int NOT NULL DEFAULT 0;
CREATE INDEX restore_requests_tag_check ON restore_requests (tag_check_at) WHERE tag_check_at IS NOT NULL;

-- Instances carrying a request's tag that are not the request's own instance:
-- a create JD Cloud carried out although the worker concluded it had not, or
-- one of two tagged instances. They bill until someone deletes them, so they
-- are kept and shown until then.
CREATE TABLE duplicate_instances (
    instance_id   text PRIMARY KEY,
    request_id    bigint NOT NULL REFERENCES restore_requests (id),
    region        text NOT NULL,
    instance_name text NOT NULL DEFAULT '',
    jd_created_at text NOT NULL DEFAULT '',   -- createTime as JD Cloud reports it
    found_at      timestamptz NOT NULL DEFAULT now()
);
-- A request's duplicates, and the admins' newest-first list, in index order.
CREATE INDEX duplicate_instances_request ON duplicate_instances (request_id, found_at, instance_id);
CREATE INDEX duplicate_instances_found ON duplicate_instances (found_at DESC, instance_id);

-- +goose Down
DROP TABLE duplicate_instances;
ALTER TABLE restore_requests
    DROP COLUMN create_ended_at, DROP COLUMN retry_since, DROP COLUMN recheck_tag,
    DROP COLUMN tag_check_at, DROP COLUMN tag_check_tries;
