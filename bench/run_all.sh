#!/usr/bin/env bash
# Every A/B benchmark into bench/results/ (JSON with every sample and its load average), then the
# README's "## Performance" section rewritten from them (bench/perf_table.py --write README.md; the
# rest of the README is left alone). About 10 minutes on 2 idle cores; each step prints its time
# and the load it started at.
#
#   bash bench/run_all.sh                # everything, 5 interleaved rounds per figure
#   ROUNDS=3 bash bench/run_all.sh       # quicker, wider spreads
#   RGW=0 bash bench/run_all.sh          # leave out the Ceph RGW comparison (else: when radosgw is installed)
#   WRITE=0 bash bench/run_all.sh        # results only; print the section instead of writing README.md
#
# Needs the bench extra (moto): pip install -e '.[test,bench]'.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
R=${ROUNDS:-5}
OUT=bench/results
mkdir -p "$OUT"
START=$SECONDS

step() {
    local t=$SECONDS
    echo "== $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg): ${*:2}" >&2
    "$@" > "$OUT/$(basename "$2" .py).log" 2>&1 || { echo "== FAILED (see $OUT/$(basename "$2" .py).log)" >&2; return 1; }
    echo "== $((SECONDS - t)) s" >&2
}

step $PY bench/s3_ops.py --rounds "$R" --n 600 --n-boto3 150 --json "$OUT/s3_ops.json"
if [ "${RGW:-1}" != 0 ] && { command -v radosgw >/dev/null || [ -n "${COSBEAUTY_BENCH_RGW:-}" ]; }; then
    # its own log name: s3_ops.log is the run above. Two arms only: Ceph's daemons (mon, mgr, OSD,
    # radosgw) run on the same 2 cores and disk for the whole run, so a third arm measured beside
    # them (moto) would be measured under load the first table does not have; the moto targets are
    # judged in the first table, run before Ceph starts.
    t=$SECONDS
    echo "== $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg): s3_ops.py against Ceph RGW" >&2
    $PY bench/s3_ops.py --rounds "$R" --n 300 --client raw --targets cosbeauty rgw \
        --json "$OUT/s3_rgw.json" > "$OUT/s3_rgw.log" 2>&1 || echo "== rgw run FAILED (see $OUT/s3_rgw.log)" >&2
    echo "== $((SECONDS - t)) s" >&2
fi
step $PY bench/cold_start.py --rounds "$R" --json "$OUT/cold_start.json"
step $PY bench/ci_http.py --rounds "$R" --requests 16 --conc 1 4 --also-no-fsync --json "$OUT/ci_http.json"
step $PY bench/beauty_floor.py --rounds "$R" --runs 5 --json "$OUT/beauty_floor.json"
step $PY bench/cli_folder.py --rounds "$R" --json "$OUT/cli_folder.json"
step $PY bench/memory.py --calls 100 1000 --json "$OUT/memory.json"
echo "== all benches: $((SECONDS - START)) s; logs in $OUT/*.log" >&2
if [ "${WRITE:-1}" != 0 ]; then
    $PY bench/perf_table.py --write README.md
    echo "== README.md: Performance section rewritten from $OUT" >&2
else
    $PY bench/perf_table.py
fi
