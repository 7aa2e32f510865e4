-- +goose Up
-- What waits for a lead's decision (the dashboard's count and section, the
-- approvals queue) is read by team among the pending requests alone, with
-- what the filter checks carried in the index, so its cost follows the
-- page, not the size of a team's backlog.
CREATE INDEX restore_requests_pending_team ON restore_requests (team_id, id)
    INCLUDE (requester_id, expires_at) WHERE status = 'pending_approval';
-- The history's region and date filters, alone or together, for those who
-- see every team: its pages and their capped totals are index range scans.
CREATE INDEX restore_requests_region ON restore_requests (region, id);
CREATE INDEX restore_requests_created ON restore_requests (created_at, id);

-- +goose Down
DROP INDEX restore_requests_created;
DROP INDEX restore_requests_region;
DROP INDEX restore_requests_pending_team;
