# Verifies Restore Desk's audit chain from JSON Lines, independently of Restore
# Desk: python3 scripts/verify-audit.py < audit.jsonl
import hashlib, json, sys

# the twelve keys the hash covers
KEYS = ("seq", "occurred_at", "actor_id", "actor_name", "client_addr", "user_agent",
        "action", "target_type", "target_id", "team_id", "details", "prev_hash")
prev, n = "0" * 64, 0
for line in sys.stdin:
    e = json.loads(line)
    n += 1
    doc = {k: e[k] for k in KEYS}
    # sorted keys, no spaces, ASCII only (json.dumps escapes the rest)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    if e["seq"] != n:
        sys.exit(f"event {n}: missing sequence number")
    if digest != e["hash"]:
        sys.exit(f"event {n}: content changed")
    if e["prev_hash"] != prev:
        sys.exit(f"event {n}: link broken")
    prev = digest
print(f"ok {n} events, head {prev}")
