#!/usr/bin/env bash
# README's "does multi-fidelity pay off?" comparisons for one benchmark: `bash
# benchmarks/multi_fidelity_runs.sh [BENCHMARK [COMPARE OPTIONS...]]` (default fashion-mnist), from
# the repository root. Options after the name go to both `robbench compare` runs, e.g. a build's
# first seed before the build is complete: `OUT=/tmp bash benchmarks/multi_fidelity_runs.sh build
# --data-dir data/fashion-mnist-v2.build.tar.xz --table-seed 0`.
# Syne Tune's own schedulers and TPE with Optuna's pruners against random search, 20 seeds, budget
# 100 full evaluations, the multi-fidelity ones at the same simulated training time; writes
# OUT/compare-BENCHMARK-mf/robust and .../cleanrobust (OUT default docs), then prints the table of
# benchmarks/multi_fidelity.py. Under 25 min on two cores. A finished run is reused: `robbench
# compare` resumes a folder.
set -euo pipefail
bench=${1:-fashion-mnist}
shift || true
out=${OUT:-docs}/compare-$bench-mf

robbench compare --benchmark "$bench" "$@" --objectives robust --budget 100 --n-seeds 20 --workers 2 \
    --out "$out/robust" \
    --searchers random,optuna:tpe,syne-tune:bo,syne-tune:asha,syne-tune:hyperband,syne-tune:bohb,optuna:tpe-median,optuna:tpe-sha,optuna:tpe-hyperband
robbench compare --benchmark "$bench" "$@" --objectives clean,robust --budget 100 --n-seeds 20 --workers 2 \
    --out "$out/cleanrobust" --searchers random,syne-tune:moasha,syne-tune:moasha-ranked
python benchmarks/multi_fidelity.py "$out"
