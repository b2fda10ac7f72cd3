#!/usr/bin/env bash
# install-browser.sh — install Debian's chromium for the debug page's browser
# test (TestDebugPageInChromium in the root package), which loads the page
# headless and reads the DOM its script wrote. In CI that test fails when
# chromium is missing, so this runs before the tests.
#
# Idempotent and non-interactive; it installs a binary and starts nothing.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi

if ! command -v chromium >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium
fi
echo "browser installed:"
chromium --version 2>/dev/null | sed -n '1s/^/  /p' || true
