-- +goose Up
-- What waits for a lead's decision (the dashboard's count and section, the
-- approvals queue) is read from the pending requests alone, in id order, with
-- what the filter checks carried in the index: the first page is the first
-- entries, whatever a team's backlog. (The index on expires_at it replaces
-- led the planner, which cannot foresee how many pending requests expire in
-- the future, to read and sort a whole backlog of 80,000 for each page.)
CREATE INDEX restore_requests_pending_order ON restore_requests (id)
    INCLUDE (team_id, requester_id, expires_at) WHERE status = 'pending_approval';
DROP INDEX restore_requests_pending;
-- The history's region and date filters, alone or with the status, for
-- those who see every team: its pages and their capped totals are index
-- range scans.
CREATE INDEX restore_requests_status_region ON restore_requests (status, region, id);
CREATE INDEX restore_requests_region ON restore_requests (region, id);
CREATE INDEX restore_requests_created ON restore_requests (created_at, id);

-- +goose Down
DROP INDEX restore_requests_created;
DROP INDEX restore_requests_region;
DROP INDEX restore_requests_status_region;
CREATE INDEX restore_requests_pending ON restore_requests (expires_at) WHERE status = 'pending_approval';
DROP INDEX restore_requests_pending_order;
