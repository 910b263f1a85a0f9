#!/usr/bin/env bash
# Every figure quoted for an embedded benchmark, in one place: `bash benchmarks/embedded_figures.sh
# [BENCHMARK]` (an embedded name: fashion-mnist, the default, fashion-mnist-v2, digits), run from the
# repository root with the finished build archive that robbench_plugin/embedded.py names for it in
# data/. It ships the table (and its surrogate), then measures. OUT (default docs) is where the outputs go, as <name>-BENCHMARK. NASLIB_VENV and
# NASLIB_SRC point at a NASLib set-up as in docs/naslib.md; without them the NASLib parts are skipped.
set -euo pipefail
bench=${1:-fashion-mnist}
out=${OUT:-docs}

python scripts/package_embedded.py --benchmark "$bench" --report "$out/$bench-report"  # thresholds + report
python benchmarks/benchmark_goals.py --benchmark "$bench" --seeds 20 --out "$out/goals-$bench.json"  # goals
( time robbench search --benchmark "$bench" --out "$out/search-$bench" ) 2>&1 | tail -n 12  # README main job
[[ "$bench" == fashion-mnist ]] && OUT="$out" bash benchmarks/main_job.sh         # README's first screen
python benchmarks/bench_optuna.py --benchmark "$bench"                            # Optuna overhead
python benchmarks/bench_optuna.py --benchmark "$bench" --report-curve             # ... with per-epoch reports
python benchmarks/bench_syne_tune.py --benchmark "$bench"                         # MOASHA overhead
python benchmarks/bench_surrogate.py --benchmark "$bench" --out "$out/surrogate-$bench.csv"  # surrogate quality
python benchmarks/time_noise.py --benchmark "$bench"                              # the simulated clock, held out
robbench compare --tasks "$bench:clean,robust;$bench:robust,params;$bench:clean,robust,flops" --budget 200 \
    --n-seeds 10 --workers 2 --out "$out/compare-$bench" \
    --searchers random,optuna:tpe,optuna:nsga2,syne-tune:moasha,syne-tune:morea,syne-tune:moasha-ranked,syne-tune:morea-ranked
OUT="$out" bash benchmarks/multi_fidelity_runs.sh "$bench"                       # does multi-fidelity pay off?
robbench proxies --benchmark "$bench" --n 300 --out "$out/proxies-$bench.csv" --plot "$out/proxies-$bench.png"
if [[ -n "${NASLIB_VENV:-}" && -n "${NASLIB_SRC:-}" ]]; then
    # NASLib's searchers and zero-cost predictors run in NASLib's own environment, into the same outputs
    PYTHONPATH="$NASLIB_SRC" "$NASLIB_VENV/bin/robbench" compare --benchmark "$bench" --budget 200 --n-seeds 10 \
        --workers 2 --out "$out/compare-$bench-naslib" --searchers random,naslib:re,naslib:ls
    PYTHONPATH="$NASLIB_SRC" "$NASLIB_VENV/bin/robbench" proxies --benchmark "$bench" --n 300 \
        --out "$out/proxies-$bench-naslib.csv" --plot "$out/proxies-$bench-naslib.png"
fi
