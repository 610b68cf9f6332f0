#!/usr/bin/env bash
# Install cosbeauty with its test dependencies into ./.venv and run the whole test suite.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
if [ -f scripts/install-browser.sh ]; then
  bash scripts/install-browser.sh
fi
.venv/bin/ruff check src tests bench
exec .venv/bin/python -m pytest -q "$@"
