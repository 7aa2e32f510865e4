#!/usr/bin/env bash
# make bench: the benchmarks, on a private throwaway PostgreSQL cluster (as
# make test uses), printing their figures.
#   BENCH_PKGS          the packages (default: the audit trail's and internal/e2e's)
#   BENCH               the benchmarks to run (a go test -bench pattern, default all)
#   BENCH_SCALE         BenchmarkYear's share of a year of data (default 1: 1,000,000
#                       requests and 10,000,000 audit events; 0.01 for a quick run)
#   BENCH_SECONDS       how long BenchmarkYear drives each page (default 4)
#   AUDIT_BENCH_EVENTS  the size of BenchmarkAuditLog's chain (default 1,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
unset DATABASE_URL
base=/dev/shm; [ -d "$base" ] || base=${TMPDIR:-/tmp}
pgdir=$(mktemp -d "$base/restoredesk-bench-XXXXXX")
trap 'scripts/pgcluster.sh destroy "$pgdir" >/dev/null 2>&1 || true' EXIT
chmod 755 "$pgdir"
PG_EXTRA_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB -c max_wal_size=4GB" \
  scripts/pgcluster.sh start "$pgdir" >/dev/null
port=$(cat "$(cat "$pgdir/location" 2>/dev/null || echo "$pgdir/cluster")/port")
export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
echo "== go test -bench (PostgreSQL on $base, port $port)"
go test -run '^$' -bench "${BENCH:-.}" -benchmem -timeout 90m ${BENCH_PKGS:-./internal/audit/ ./internal/e2e/}
