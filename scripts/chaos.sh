#!/usr/bin/env bash
# make chaos: the bounded chaos run (internal/e2e/chaos_test.go, TestChaos) on
# a private throwaway PostgreSQL cluster that the run restarts once. It prints
# progress, an explanation of every failure, and last one summary line:
#   N requests: R ready, F failed, D duplicates, S stuck, audit ok|broken
# and exits non-zero when the run finds a duplicate, a stuck request, an
# orphaned instance, a wrong or unexplained failure, or a broken audit chain.
# The processes' logs stay in CHAOS_LOGDIR (default .data/chaos/<time>).
set -euo pipefail
cd "$(dirname "$0")/.."
unset DATABASE_URL
base=/dev/shm; [ -d "$base" ] || base=${TMPDIR:-/tmp}
pgdir=$(mktemp -d "$base/restoredesk-chaos-XXXXXX")
summary=$(mktemp "${TMPDIR:-/tmp}/restoredesk-chaos-summary-XXXXXX")
trap 'scripts/pgcluster.sh destroy "$pgdir" >/dev/null 2>&1 || true; rm -f "$summary"' EXIT
chmod 755 "$pgdir"
# No fsync (the run kills the server, not the machine, so the OS keeps what
# was written), but commits stay synchronous: an immediate restart must not
# lose a commit the app was told about, or the run would blame the worker.
export PG_EXTRA_OPTS="-c fsync=off -c full_page_writes=off -c shared_buffers=64MB"
scripts/pgcluster.sh start "$pgdir" >/dev/null
port=$(cat "$(cat "$pgdir/location" 2>/dev/null || echo "$pgdir/cluster")/port")
logdir=${CHAOS_LOGDIR:-.data/chaos/$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$logdir"
logdir=$(cd "$logdir" && pwd)
echo "== chaos run (PostgreSQL on $base, port $port; logs in $logdir)"
rc=0
CHAOS=1 CHAOS_PGDIR="$pgdir" CHAOS_LOGDIR="$logdir" CHAOS_SUMMARY="$summary" \
  TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" \
  go test -count=1 -v -run '^TestChaos$' -timeout 10m ./internal/e2e/ || rc=$?
if [ -s "$summary" ]; then
  cat "$summary"
else
  echo "chaos: the run ended before its verdict (go test exit $rc); see the output above and $logdir"
  [ "$rc" != 0 ] || rc=1
fi
exit "$rc"
