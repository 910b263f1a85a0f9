"""How MOASHA's rung decision depends on the new trial's values, with Syne Tune's default priority
and with ``RankedNonDominatedPriority`` (robbench_plugin/adapters/syne_tune/priority.py).

    python benchmarks/moasha_priority.py [--rungs 2000] [--seed 0]

Each rung: 3 to 39 trials already recorded plus a new one, two errors each, correlated as clean
and robust error are (a shared normal draw plus 0.3 x an own one). The decision is Syne Tune's
own: MOASHA's ``Bracket.on_result`` at reduction factor 3, fed the rung in order. It is compared
with the decision the MOASHA paper describes: keep the new trial if its place in the non-dominated
sort (successive Pareto fronts, each in Syne Tune's epsilon-net order; the ranked priority's value,
pinned by the tests against hand-computed sorts and moocore's fronts) is in the top third. Printed
per priority: the share of rungs where the two decisions agree (1 for the ranked priority by
construction: its row shows that MOASHA's own rung logic then keeps exactly that top third), and how
often a new trial that is the rung's best (worst) in that sort is stopped. About a minute on one
core.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rungs", type=int, default=2000, help="random rungs (default 2000)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the rungs' values (default 0)")
    args = ap.parse_args(argv)
    if args.rungs < 1:
        print(f"--rungs must be >= 1, got {args.rungs}", file=sys.stderr)
        return 2
    from syne_tune.optimizer.scheduler import SchedulerDecision
    from syne_tune.optimizer.schedulers.multiobjective.moasha import Bracket
    from syne_tune.optimizer.schedulers.multiobjective.multiobjective_priority import NonDominatedPriority

    from robbench_plugin.adapters.syne_tune.priority import RankedNonDominatedPriority

    rng = np.random.default_rng(args.seed)
    rungs = []
    for _ in range(args.rungs):
        n = int(rng.integers(4, 41))
        z = rng.normal(size=n)
        rungs.append(np.c_[z + 0.3 * rng.normal(size=n), z + 0.3 * rng.normal(size=n)])
    print("| priority | decisions as the new trial's place says | rung's best stopped | rung's worst stopped |")
    print("|---|---|---|---|")
    for label, priority in (("NonDominatedPriority (Syne Tune's default)", NonDominatedPriority()),
                            ("RankedNonDominatedPriority", RankedNonDominatedPriority())):
        agree, best, best_stopped, worst, worst_stopped = 0, 0, 0, 0, 0
        for rows in rungs:
            bracket = Bracket(min_t=1, max_t=9, reduction_factor=3, s=0, priority=priority)
            for i, row in enumerate(rows[:-1]):  # the recorded trials
                bracket.on_result(trial_id=i, cur_iter=1, metrics={"a": row[0], "b": row[1]})
            decision = bracket.on_result(trial_id=len(rows) - 1, cur_iter=1,
                                         metrics={"a": rows[-1][0], "b": rows[-1][1]})
            stopped = decision == SchedulerDecision.STOP
            place = int(RankedNonDominatedPriority()(rows)[-1])
            agree += stopped == (place / len(rows) > 1 / 3)
            if place == 0:
                best, best_stopped = best + 1, best_stopped + stopped
            if place == len(rows) - 1:
                worst, worst_stopped = worst + 1, worst_stopped + stopped
        print(f"| {label} | {agree / len(rungs):.3f} | {best_stopped} of {best} | {worst_stopped} of {worst} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
