#!/usr/bin/env bash
# Install cosbeauty with its test dependencies into ./.venv and run the whole test suite.
# Usage: bash scripts/test.sh [pytest args...]
# The suite runs on PYTEST_WORKERS pytest-xdist workers (default 2: this machine's cores; 0 = serial):
# --dist loadgroup with tests/xdist_plan.py's groups (tests/cluster's PostgreSQL + Ceph on one
# worker, modules sharing a module fixture kept whole) and longest tests first.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WORKERS=${PYTEST_WORKERS:-2}

# Debian packages (apt-get; each step does nothing when already installed) run in the background
# while pip installs the Python dependencies: one apt-get at a time, their output in $apt_log.
apt_log=$(mktemp)
apt_steps() {
  # libturbojpeg + jpegtran (lossless JPEG splicing in imaging/jpeg_lossless.py; libturbojpeg is
  # loaded with ctypes, jpegtran puts restart markers back)
  if { ! ldconfig -p 2>/dev/null | grep -q 'libturbojpeg\.so\.0' || ! command -v jpegtran >/dev/null; } \
      && command -v apt-get >/dev/null; then
    { apt-get install -y -q libturbojpeg0 libjpeg-turbo-progs \
      || { apt-get update -q && apt-get install -y -q libturbojpeg0 libjpeg-turbo-progs; }; } >/dev/null \
      || echo "test.sh: libturbojpeg0/libjpeg-turbo-progs not installed; JPEG output re-encodes, tests/imaging/test_lossless.py skips" >&2
  fi
  # PostgreSQL and Ceph (RADOS Gateway) for tests/cluster: skipped when already installed
  if [ -f scripts/services/install.sh ]; then
    bash scripts/services/install.sh || echo "test.sh: cluster services not installed; tests/cluster will skip" >&2
  fi
  if [ -f scripts/install-browser.sh ]; then
    bash scripts/install-browser.sh
  fi
}
apt_steps >"$apt_log" 2>&1 &
apt_pid=$!

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/ruff check src tests bench

apt_status=0
wait "$apt_pid" || apt_status=$?
cat "$apt_log" >&2
rm -f "$apt_log"
if [ "$apt_status" -ne 0 ]; then
  echo "test.sh: installing the Debian packages failed (status $apt_status)" >&2
  exit "$apt_status"
fi

xdist=()
if [ "$WORKERS" != 0 ]; then
  xdist=(-n "$WORKERS" --dist loadgroup --no-loadscope-reorder)
fi
exec .venv/bin/python -m pytest -q --durations=15 "${xdist[@]}" "$@"     # the 15 slowest tests
