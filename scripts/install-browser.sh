#!/usr/bin/env bash
# Install headless Chromium and its WebDriver (Debian packages) for the console's browser tests.
# Idempotent and quiet: does nothing when /usr/bin/chromium and /usr/bin/chromedriver exist.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "install-browser: not root and no sudo; install chromium and chromium-driver yourself" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium chromium-driver; } >"$log" 2>&1; then
  echo "install-browser: apt-get install chromium chromium-driver failed:" >&2
  tail -n 20 "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
echo "install-browser: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
