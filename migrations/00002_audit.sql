-- +goose Up
-- The audit trail (docs/architecture.md): append-only, each event chained to the one before
-- it by SHA-256 (see internal/audit/chain.go and the README for the canonical form).
CREATE TABLE audit_events (
    seq         bigint PRIMARY KEY CHECK (seq > 0),   -- 1, 2, 3… with no gaps
    occurred_at timestamptz NOT NULL,                 -- UTC, microseconds
    actor_id    bigint,                               -- NULL for the system (the worker)
    actor_name  text NOT NULL,
    client_addr text NOT NULL DEFAULT '',
    user_agent  text NOT NULL DEFAULT '',
    action      text NOT NULL,
    target_type text NOT NULL,
    target_id   text NOT NULL,
    team_id     bigint,
    details     jsonb NOT NULL DEFAULT '{}',
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL UNIQUE
);
-- Keyset pagination walks seq downwards; the filters of the audit page each
-- get an index ending in seq so a filtered page is an index range scan.
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at, seq);
CREATE INDEX audit_events_actor ON audit_events (actor_id, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_target ON audit_events (target_type, target_id, seq);
CREATE INDEX audit_events_team ON audit_events (team_id, seq);

-- +goose StatementBegin
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- +goose Down
DROP TABLE audit_events;
DROP FUNCTION audit_events_refuse_change();
