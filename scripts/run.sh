#!/usr/bin/env bash
# make run: build the binary, start (or reuse) the private PostgreSQL cluster
# under .data/ unless DATABASE_URL is set, and serve in demo mode by default.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/web ./cmd/web
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/pgcluster.sh start .data/pg)
  export DATABASE_URL
  echo "Using the private PostgreSQL cluster in .data/pg (make db-stop stops it)."
fi
export DEMO=${DEMO-1}
exec bin/web serve
