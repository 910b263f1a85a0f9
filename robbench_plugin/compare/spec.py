"""What a comparison runs: the searchers by name (:data:`SEARCHERS`), whether each is installed, and
the task (:class:`CompareSpec`: benchmark, data set, objectives, budget, table seed) whose identity
ties a folder of runs to its settings."""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, replace

from ..errors import InvalidChoiceError, InvalidValueError
from ..loader import DEFAULT_BENCHMARK, load_benchmark

SEARCHERS = {
    "random": ("core", None),
    "optuna:tpe": ("optuna", "tpe"), "optuna:nsga2": ("optuna", "nsga2"), "optuna:nsga3": ("optuna", "nsga3"),
    "optuna:gp": ("optuna", "gp"), "optuna:random": ("optuna", "random"),
    # TPE with Optuna's own pruners (one objective only): multi-fidelity at equal simulated training time
    "optuna:tpe-median": ("optuna", "tpe-median"), "optuna:tpe-sha": ("optuna", "tpe-sha"),
    "optuna:tpe-hyperband": ("optuna", "tpe-hyperband"),
    "syne-tune:moasha": ("syne_tune", "moasha"), "syne-tune:morea": ("syne_tune", "morea"),
    "syne-tune:morandom": ("syne_tune", "morandom"),
    # the same two given the non-dominated sort as one rank per trial (adapters/syne_tune/priority.py)
    "syne-tune:moasha-ranked": ("syne_tune", "moasha-ranked"), "syne-tune:morea-ranked": ("syne_tune", "morea-ranked"),
    # Syne Tune's single-objective schedulers (one objective only): multi-fidelity, then at the last fidelity
    "syne-tune:asha": ("syne_tune", "asha"), "syne-tune:hyperband": ("syne_tune", "hyperband"),
    "syne-tune:bohb": ("syne_tune", "bohb"), "syne-tune:asha-bore": ("syne_tune", "asha-bore"),
    "syne-tune:asha-cqr": ("syne_tune", "asha-cqr"), "syne-tune:random": ("syne_tune", "random"),
    "syne-tune:bo": ("syne_tune", "bo"), "syne-tune:rea": ("syne_tune", "rea"), "syne-tune:bore": ("syne_tune", "bore"),
    "syne-tune:cqr": ("syne_tune", "cqr"),
    "naslib:re": ("naslib", "re"), "naslib:ls": ("naslib", "ls"), "naslib:rs": ("naslib", "rs"),
    "naslib:bananas": ("naslib", "bananas"), "naslib:npenas": ("naslib", "npenas"),
}
# searchers of one objective only (a task of several is refused before any run): Syne Tune's, but its
# multi-objective ones (its adapter's MULTI_OBJECTIVE; named here so that this module needs no Syne Tune),
# and Optuna's pruned ones (Optuna prunes single-objective studies only)
_SYNE_TUNE_MULTI_OBJECTIVE = ("moasha", "moasha-ranked", "morea", "morea-ranked", "morandom")
SINGLE_OBJECTIVE = tuple(s for s, (framework, name) in SEARCHERS.items()
                         if (framework == "syne_tune" and name not in _SYNE_TUNE_MULTI_OBJECTIVE)
                         or (framework == "optuna" and name in ("tpe-median", "tpe-sha", "tpe-hyperband")))
FRAMEWORK_PACKAGE = {"core": None, "optuna": "optuna", "syne_tune": "syne_tune", "naslib": "naslib"}


@dataclass(frozen=True)
class CompareSpec:
    """What a comparison runs on: the benchmark, the objectives, the budget (full evaluations per
    run) and the table seed every searcher's values come from (one seed policy for all: a label,
    or ``mean`` over each class's training seeds)."""

    benchmark: str = DEFAULT_BENCHMARK
    dataset: str | None = None
    data_dir: str | None = None
    mode: str = "tabular"
    objectives: tuple[str, ...] = ("clean", "robust")
    budget: int = 200
    table_seed: str = "mean"

    def load(self):
        """The task's benchmark; a table that lacks classes (a partial build) is an error here,
        before any run starts, since the searchers may ask for any cell."""
        bench = load_benchmark(self.benchmark, dataset=self.dataset, data_dir=self.data_dir, mode=self.mode)
        if self.mode == "tabular":
            bench.require_complete("a comparison of searchers")
        return bench

    def identity(self, bench=None) -> dict:
        """Everything that determines a run besides its searcher and seed: benchmark name and table
        sha256, dataset, mode, the simulated clock (``Benchmark.clock``), objectives, budget, table
        seed and package version. Runs in one
        output folder share it (``comparison.json``)."""
        from .._version import __version__

        bench = bench if bench is not None else self.load()
        return {"benchmark": self.benchmark, "table_sha256": bench.table.sha256(), "dataset": bench.dataset,
                "mode": self.mode, "clock": bench.clock, "objectives": list(self.objectives), "budget": int(self.budget),
                "table_seed": self.table_seed, "robbench_plugin": __version__}

    @property
    def label(self) -> str:
        """``benchmark[/dataset]:objective,objective``: how the task is named on the command line."""
        where = self.benchmark + (f"/{self.dataset}" if self.dataset else "")
        return f"{where}:{','.join(self.objectives)}"

    @property
    def slug(self) -> str:
        """The task's folder name under a multi-task comparison: its label with safe characters."""
        return "".join(c if c.isalnum() or c in "-." else "_" for c in self.label.replace(":", "__"))


def parse_task(text: str, base: CompareSpec) -> CompareSpec:
    """A task ``benchmark[/dataset]:objective,objective[,...]`` (e.g. ``digits:clean,robust``,
    ``nas-robbench-201/cifar100:robust,params``), with the other settings of ``base``."""
    where, sep, objectives = text.strip().partition(":")
    names = [o.strip() for o in objectives.split(",")] if sep else []
    if not where or not names or any(not o for o in names) or len(set(names)) != len(names):
        raise InvalidValueError(f"--tasks: {text!r} is not a task; write benchmark[/dataset]:objective,objective "
                                "(e.g. digits:clean,robust)")
    benchmark, _, dataset = where.partition("/")
    from ..loader import BENCHMARKS

    if benchmark not in BENCHMARKS:
        raise InvalidChoiceError(f"benchmark of task {text!r}", benchmark, BENCHMARKS)
    return replace(base, benchmark=benchmark, dataset=dataset or None, objectives=tuple(names))


def available(searcher: str) -> tuple[bool, str]:
    """(usable, reason) for a searcher name."""
    if searcher not in SEARCHERS:
        raise InvalidChoiceError("searcher", searcher, list(SEARCHERS))
    framework, _ = SEARCHERS[searcher]
    pkg = FRAMEWORK_PACKAGE[framework]
    if pkg is not None and importlib.util.find_spec(pkg) is None:
        extra = {"optuna": "optuna", "syne_tune": "syne-tune"}.get(framework)
        how = f"pip install 'robbench-plugin[{extra}]'" if extra else "see docs/naslib.md (not on PyPI)"
        return False, f"{framework} is not installed ({how})"
    return True, ""
