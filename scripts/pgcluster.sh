#!/usr/bin/env bash
# pgcluster.sh — a private PostgreSQL cluster on loopback, from the machine's
# server binaries, for development (`make run`) and the test suite.
#
#   scripts/pgcluster.sh start DIR [PORT]   initialise DIR if needed, start the server if
#                                           it is not running, print its DATABASE_URL
#   scripts/pgcluster.sh stop DIR           stop the server (data is kept)
#   scripts/pgcluster.sh crash-restart DIR [SECONDS]
#                                           stop the server without a shutdown (pg_ctl -m
#                                           immediate), wait SECONDS, start it again; for
#                                           `make chaos`
#   scripts/pgcluster.sh url DIR            print the DATABASE_URL
#
# initdb and postgres refuse to run as root, so as root they run as the
# postgres user; every directory above DIR must then be traversable by it, and
# when it is not the cluster lives in /var/tmp instead (DIR/location says where).
set -euo pipefail

die() { echo "pgcluster: $*" >&2; exit 1; }

bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return; }
  die "PostgreSQL server binaries not found: install them (Debian: apt-get install postgresql) or set PG_BINDIR"
}

as_pg() {
  # from / so that the postgres user is not left in a directory it cannot enter
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# where DIR's cluster really lives (DIR itself, or the fallback it points to)
location() {
  local dir=$1
  if [ -f "$dir/location" ]; then cat "$dir/location"; else echo "$dir/cluster"; fi
}

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 start|stop|crash-restart|destroy|url DIR [PORT|SECONDS]"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
PG=$(bindir)

case "$cmd" in
start)
  port=${3:-}
  loc=$(location "$dir")
  if [ ! -f "$loc/data/PG_VERSION" ]; then
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 || die "running as root needs the postgres user (install the postgresql package)"
      if ! runuser -u postgres -- test -x "$dir"; then
        loc="/var/tmp/restoredesk-pg-$(echo -n "$dir" | sha256sum | cut -c1-12)"
        echo "pgcluster: the postgres user cannot reach $dir; keeping the cluster in $loc" >&2
        echo "$loc" > "$dir/location"
      fi
      install -d -o postgres -g postgres -m 700 "$loc"
    else
      mkdir -p -m 700 "$loc"
    fi
    as_pg "$PG/initdb" -D "$loc/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  fi
  if [ -z "$port" ]; then
    port=$(cat "$loc/port" 2>/dev/null || true)
  fi
  if [ -z "$port" ]; then
    # a free port, remembered so the URL stays the same across runs
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 54329)
  fi
  if ! as_pg "$PG/pg_ctl" -D "$loc/data" status >/dev/null 2>&1; then
    as_pg "$PG/pg_ctl" -D "$loc/data" -l "$loc/server.log" -w -t 30 \
      -o "-p $port -k $loc -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_EXTRA_OPTS:-}" start >/dev/null \
      || { tail -n 20 "$loc/server.log" >&2; die "could not start PostgreSQL (log: $loc/server.log)"; }
    echo "$port" | as_pg tee "$loc/port" >/dev/null
  fi
  port=$(cat "$loc/port")
  as_pg "$PG/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc \
    "SELECT 1 FROM pg_database WHERE datname='restoredesk'" | grep -q 1 \
    || as_pg "$PG/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE restoredesk" >/dev/null
  echo "postgres://postgres@127.0.0.1:$port/restoredesk?sslmode=disable"
  ;;
stop)
  loc=$(location "$dir")
  if [ -f "$loc/data/PG_VERSION" ] && as_pg "$PG/pg_ctl" -D "$loc/data" status >/dev/null 2>&1; then
    as_pg "$PG/pg_ctl" -D "$loc/data" -m fast -w stop >/dev/null
    echo "pgcluster: stopped $loc" >&2
  fi
  ;;
crash-restart)
  # The database "crashes" (no shutdown checkpoint: crash recovery on start), stays down
  # for SECONDS (default 0) and comes back on its port; PG_EXTRA_OPTS must be as at start.
  loc=$(location "$dir")
  [ -f "$loc/data/PG_VERSION" ] || die "no cluster in $dir"
  as_pg "$PG/pg_ctl" -D "$loc/data" -m immediate -w stop >/dev/null
  sleep "${3:-0}"
  "$0" start "$dir" >/dev/null
  ;;
destroy)
  loc=$(location "$dir")
  if [ -f "$loc/data/PG_VERSION" ]; then
    as_pg "$PG/pg_ctl" -D "$loc/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$loc" "$dir"
  ;;
url)
  loc=$(location "$dir")
  port=$(cat "$loc/port" 2>/dev/null) || die "no cluster in $dir"
  echo "postgres://postgres@127.0.0.1:$port/restoredesk?sslmode=disable"
  ;;
*) die "unknown command $cmd" ;;
esac
