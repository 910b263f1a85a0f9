#!/usr/bin/env bash
# README's main job as a newcomer runs it, kept as the pictures and the output README and the docs'
# landing page show: `bash benchmarks/main_job.sh` (from the repository root) writes docs/main-job/
# (pareto.png, regret.png, output.txt, summary.json, seeds.csv, trials.csv, front.csv).
set -euo pipefail
out=${OUT:-docs}/main-job
rm -rf "$out.tmp"
start=$(date +%s.%N)
robbench search --out "$out.tmp" | sed "s#$out.tmp#robbench-search#g" > "$out.tmp.txt"
end=$(date +%s.%N)
mv "$out.tmp.txt" "$out.tmp/output.txt"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "wall: $(python -c "print(f'{$end - $start:.1f}')") s including imports"
cat "$out/output.txt"
