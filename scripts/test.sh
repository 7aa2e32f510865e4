#!/usr/bin/env bash
# make test: the whole suite, as CI runs it on a clean clone.
#   scripts/test.sh        lint, install test prerequisites, run every test
#   scripts/test.sh lint   formatting, vet, go.mod tidiness, staticcheck, deadcode and the templ drift check only
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

lint() {
  echo "== gofmt"
  bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*'))
  [ -z "$bad" ] || { echo "gofmt would change:"; echo "$bad"; exit 1; }
  echo "== go vet"
  go vet ./...
  echo "== go mod tidy (drift check)"
  go mod tidy -diff
  echo "== staticcheck"
  go tool staticcheck ./...
  echo "== deadcode"
  dead=$(go tool deadcode -test ./...)
  [ -z "$dead" ] || { echo "unreachable code (remove it):"; echo "$dead"; exit 1; }
  echo "== templ generate (drift check)"
  go tool templ generate >/dev/null 2>&1
  if git rev-parse --git-dir >/dev/null 2>&1; then
    if ! git diff --exit-code --stat -- '*_templ.go'; then
      echo "committed *_templ.go files differ from 'go tool templ generate': run make generate and commit"; exit 1
    fi
    untracked=$(git ls-files --others --exclude-standard -- '*_templ.go')
    [ -z "$untracked" ] || { echo "generated but not committed: $untracked"; exit 1; }
  fi
}

lint
[ "${1:-}" = lint ] && exit 0

echo "== test prerequisites"
scripts/test-deps.sh

echo "== private PostgreSQL for the tests"
# One throwaway cluster on tmpfs for the whole run; each test package clones
# its databases from a migrated template in it. DATABASE_URL is never used.
unset DATABASE_URL
base=/dev/shm; [ -d "$base" ] || base=${TMPDIR:-/tmp}
pgdir=$(mktemp -d "$base/restoredesk-test-XXXXXX")
trap 'scripts/pgcluster.sh destroy "$pgdir" >/dev/null 2>&1 || true' EXIT
chmod 755 "$pgdir"
PG_EXTRA_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=64MB" \
  scripts/pgcluster.sh start "$pgdir" >/dev/null
port=$(cat "$(cat "$pgdir/location" 2>/dev/null || echo "$pgdir/cluster")/port")
export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"

echo "== go test"
go test -race -count=1 -parallel 6 -timeout 8m ./...
echo "== suite passed in $(( $(date +%s) - start ))s"
