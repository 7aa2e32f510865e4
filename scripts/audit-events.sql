-- The audit trail as JSON Lines, one event per line in seq order, with the
-- fields the canonical form covers plus the stored hashes (see the README,
-- "Audit trail: verifying it yourself"):
--   psql "$DATABASE_URL" -At -f scripts/audit-events.sql > audit.jsonl
SELECT json_build_object(
    'seq', seq,
    'occurred_at', to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'actor_id', actor_id, 'actor_name', actor_name, 'client_addr', client_addr, 'user_agent', user_agent,
    'action', action, 'target_type', target_type, 'target_id', target_id, 'team_id', team_id,
    'details', details, 'prev_hash', encode(prev_hash, 'hex'), 'hash', encode(hash, 'hex'))
FROM audit_events ORDER BY seq;
