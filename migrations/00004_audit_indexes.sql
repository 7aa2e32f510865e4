-- +goose Up
-- More indexes for the audit page (internal/audit/query.go): every filter is an
-- equality or a seq range, and each meets an index ending in seq, so a page —
-- the first or a deep one — is a short backward index range scan.
--
-- The actor filter given a username matches actor_name.
CREATE INDEX audit_events_actor_name ON audit_events (actor_name, seq);
-- Leads and engineers see only the events of their teams' requests.
CREATE INDEX audit_events_team_request ON audit_events (team_id, seq) WHERE target_type = 'request';

-- +goose Down
DROP INDEX audit_events_team_request;
DROP INDEX audit_events_actor_name;
