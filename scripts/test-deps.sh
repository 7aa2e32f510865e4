#!/usr/bin/env bash
# Installs what the tests need beyond Go and PostgreSQL, when it is missing:
# Chromium for the browser tests (Debian package chromium). As root it installs
# with apt-get; otherwise it stops and names the package to install.
set -euo pipefail

need_pkg() { # need_pkg COMMAND-PATH PACKAGE
  [ -x "$1" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $2 (needed by the tests)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "the tests need $2: install it (Debian: sudo apt-get install $2) and run again" >&2
    exit 1
  fi
}

need_pkg /usr/lib/chromium/chromium chromium
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
  echo "the JavaScript SDK interop test needs Node.js and npm: install them (Debian: apt-get install nodejs npm)" >&2; exit 1; }
