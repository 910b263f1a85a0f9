#!/usr/bin/env bash
# README's "does multi-fidelity pay off?" comparisons for one benchmark: `bash
# benchmarks/multi_fidelity_runs.sh [BENCHMARK]` (default fashion-mnist), from the repository root.
# Syne Tune's own schedulers against random search, 20 seeds, budget 100 full evaluations, the
# multi-fidelity ones at the same simulated training time; writes OUT/compare-BENCHMARK-mf/robust and
# .../cleanrobust (OUT default docs), then prints the table of benchmarks/multi_fidelity.py. About 25
# min on two cores. A finished run is reused: `robbench compare` resumes a folder.
set -euo pipefail
bench=${1:-fashion-mnist}
out=${OUT:-docs}/compare-$bench-mf

robbench compare --benchmark "$bench" --objectives robust --budget 100 --n-seeds 20 --workers 2 \
    --out "$out/robust" \
    --searchers random,optuna:tpe,syne-tune:bo,syne-tune:asha,syne-tune:hyperband,syne-tune:bohb,optuna:tpe-median,optuna:tpe-sha,optuna:tpe-hyperband
robbench compare --benchmark "$bench" --objectives clean,robust --budget 100 --n-seeds 20 --workers 2 \
    --out "$out/cleanrobust" --searchers random,syne-tune:moasha
python benchmarks/multi_fidelity.py "$out"
