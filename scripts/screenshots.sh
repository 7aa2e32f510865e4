#!/usr/bin/env bash
# scripts/screenshots.sh: regenerate docs/screenshots/ from the demo. The test
# starts the server in demo mode on its own PostgreSQL, files and approves a
# request, and captures the main pages with headless Chromium at 1280 px
# (and a few at 390 px). Needs Chromium (scripts/test-deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
SCREENSHOTS=1 go test ./internal/e2e/ -run '^TestScreenshots$' -count=1 "$@"
ls -1 docs/screenshots/
