#!/usr/bin/env bash
# Browser tests of the web console against a real onewindowd.
#   console/test.sh [BUILD_DIR]        (default: build; needs BUILD_DIR/onewindowd)
# Installs the pinned npm packages (npm ci), checks Debian's chromium,
# rebuilds console/dist and fails when it differs from the committed one,
# then runs the Playwright suite (tests/console). Screenshots of every view
# go to console/test-results/screens (kept), the server's log to
# console/test-results/onewindowd.log.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-${BUILD_DIR:-$ROOT/build}}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
export ONEWINDOWD="${ONEWINDOWD:-$BUILD/onewindowd}"
if [ ! -x "$ONEWINDOWD" ]; then
  echo "console/test.sh: no onewindowd at $ONEWINDOWD (build it first)" >&2
  exit 2
fi
command -v node >/dev/null && command -v npm >/dev/null || {
  echo "console/test.sh: node and npm are needed (apt-get install nodejs npm)" >&2
  exit 2
}
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "console/test.sh: $CHROMIUM missing (apt-get install chromium)" >&2
    exit 2
  fi
fi
cd "$ROOT/console"
# The registry's browser downloads are not used: Debian's chromium is.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm ci --no-audit --no-fund --loglevel=error
# The committed build must be the build of the committed sources.
before="$(cd dist && find . -type f -print0 | sort -z | xargs -0 sha256sum)"
npx vite build --logLevel warn
after="$(cd dist && find . -type f -print0 | sort -z | xargs -0 sha256sum)"
if [ "$before" != "$after" ]; then
  echo "console/test.sh: console/dist was stale; commit the rebuilt console/dist" >&2
  exit 1
fi
# The tests import @playwright/test from console/node_modules.
ln -sfn "$ROOT/console/node_modules" "$ROOT/tests/console/node_modules"
export CONSOLE_TEST_OUT="$ROOT/console/test-results"
rm -rf "$CONSOLE_TEST_OUT"
mkdir -p "$CONSOLE_TEST_OUT"
npx playwright test -c "$ROOT/tests/console/playwright.config.js"
echo "screenshots: $CONSOLE_TEST_OUT/screens"
