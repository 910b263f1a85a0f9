#!/usr/bin/env bash
# Every figure quoted for the embedded digits benchmark, in one place (run from the repository root
# after `python scripts/package_embedded.py` has shipped the finished table). NASLIB_VENV and
# NASLIB_SRC point at a NASLib set-up as in docs/naslib.md; without them the NASLib parts are skipped.
set -euo pipefail
out=${OUT:-docs}

python scripts/package_embedded.py --report "$out/digits-report"                   # thresholds + report
( time robbench search --benchmark digits --out "$out/search-digits" ) 2>&1 | tail -n 12   # README main job (< 1 min)
python benchmarks/bench_optuna.py                                                # Optuna overhead
python benchmarks/bench_optuna.py --report-curve                                 # ... with per-epoch reports
python benchmarks/bench_syne_tune.py                                             # MOASHA overhead
python benchmarks/bench_surrogate.py --out "$out/surrogate-digits.csv"           # surrogate rank quality
robbench compare --benchmark digits --budget 200 --n-seeds 10 --workers 2 --out "$out/compare-digits" \
    --searchers random,optuna:tpe,optuna:nsga2,syne-tune:moasha,syne-tune:morea
robbench proxies --benchmark digits --n 300 --out "$out/proxies-digits.csv" --plot "$out/proxies-digits.png"
if [[ -n "${NASLIB_VENV:-}" && -n "${NASLIB_SRC:-}" ]]; then
    # NASLib's searchers and zero-cost predictors run in NASLib's own environment, into the same outputs
    PYTHONPATH="$NASLIB_SRC" "$NASLIB_VENV/bin/robbench" compare --benchmark digits --budget 200 --n-seeds 10 \
        --workers 2 --out "$out/compare-digits-naslib" --searchers random,naslib:re,naslib:ls
    PYTHONPATH="$NASLIB_SRC" "$NASLIB_VENV/bin/robbench" proxies --benchmark digits --n 300 \
        --out "$out/proxies-digits-naslib.csv" --plot "$out/proxies-digits-naslib.png"
fi
