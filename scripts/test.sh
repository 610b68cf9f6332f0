#!/usr/bin/env bash
# Install cosbeauty with its test dependencies into ./.venv and run the whole test suite.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# libturbojpeg + jpegtran (lossless JPEG splicing in imaging/jpeg_lossless.py; libturbojpeg is
# loaded with ctypes, jpegtran puts restart markers back): Debian packages
if { ! ldconfig -p 2>/dev/null | grep -q 'libturbojpeg\.so\.0' || ! command -v jpegtran >/dev/null; } \
    && command -v apt-get >/dev/null; then
  { apt-get install -y -q libturbojpeg0 libjpeg-turbo-progs \
    || { apt-get update -q && apt-get install -y -q libturbojpeg0 libjpeg-turbo-progs; }; } >/dev/null \
    || echo "test.sh: libturbojpeg0/libjpeg-turbo-progs not installed; JPEG output re-encodes, tests/imaging/test_lossless.py skips" >&2
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
# PostgreSQL and Ceph (RADOS Gateway) for tests/cluster: Debian packages, skipped when already installed
if [ -f scripts/services/install.sh ]; then
  bash scripts/services/install.sh || echo "test.sh: cluster services not installed; tests/cluster will skip" >&2
fi
if [ -f scripts/install-browser.sh ]; then
  bash scripts/install-browser.sh
fi
.venv/bin/ruff check src tests bench
exec .venv/bin/python -m pytest -q --durations=15 "$@"     # the 15 slowest tests, to keep CI well under 20 min
