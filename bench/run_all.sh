#!/usr/bin/env bash
# Run every A/B benchmark into bench/results/ (JSON with every sample and its load average), then
# print the README performance section: python bench/perf_table.py [--write README.md].
# Needs the bench extra (moto): pip install -e '.[test,bench]'. About 20-30 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
R=${ROUNDS:-5}
mkdir -p bench/results
$PY bench/s3_ops.py --rounds "$R" --n 300 --json bench/results/s3_ops.json
$PY bench/cold_start.py --rounds "$R" --json bench/results/cold_start.json
$PY bench/ci_http.py --rounds "$R" --requests 24 --conc 1 4 --also-no-fsync --json bench/results/ci_http.json
$PY bench/beauty_floor.py --rounds "$R" --json bench/results/beauty_floor.json
$PY bench/cli_folder.py --rounds "$R" --json bench/results/cli_folder.json
$PY bench/memory.py --calls 100 1000 --json bench/results/memory.json
$PY bench/perf_table.py
