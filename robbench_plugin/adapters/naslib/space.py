"""The robust benchmark as NASLib's NAS-Bench-201 search space, and the ``dataset_api`` it answers from
(see :mod:`robbench_plugin.adapters.naslib` for the query mapping)."""
from __future__ import annotations

from typing import Any

from ...errors import InvalidChoiceError, RobBenchError
from ...loader import DEFAULT_BENCHMARK, load_benchmark
from ...metrics import scalarization_weight, scalarize
from .environment import Metric, NasBench201SearchSpace, convert_naslib_to_str, convert_op_indices_to_str


OBJECTIVE_ALIASES = ("robust", "clean")


def _objective_value(bench, arch_str: str, objective: str, fidelity: int | None = None, seed: str = "mean") -> float:
    w = scalarization_weight(objective)  # the core's scalarized objective
    if w is not None:
        v = bench.query(arch_str, ["clean", "robust"], fidelity=fidelity, seed=seed)
        return float(scalarize(w, v[bench.resolve_metric("clean")], v[bench.resolve_metric("robust")]))
    return float(bench.query(arch_str, objective, fidelity=fidelity, seed=seed))


def get_dataset_api(benchmark: Any = DEFAULT_BENCHMARK, objective: str = "robust", dataset: str | None = None,
                    seed: str = "mean", **load_kw: Any) -> dict:
    """NASLib-style ``dataset_api`` for our benchmarks (name or benchmark object); the objective's
    values are those of the table's training seed ``seed`` (a label, or ``mean`` over the seeds).
    A table that lacks classes (a partial build) is refused: NASLib's searchers may ask for any cell."""
    bench = benchmark if not isinstance(benchmark, str) else load_benchmark(benchmark, dataset=dataset, **load_kw)
    if getattr(bench, "mode", None) == "tabular":
        bench.require_complete("NASLib's searchers")
    for name in (("clean", "robust") if scalarization_weight(objective) is not None else (objective,)):
        bench.resolve_metric(name)  # validates, listing the choices
    if seed not in bench.seeds or seed == "std":
        raise InvalidChoiceError("seed", seed, [s for s in bench.seeds if s != "std"])
    return {"robbench": bench, "objective": objective, "seed": seed, "nb201_data": None}


class RobustNasBench201SearchSpace(NasBench201SearchSpace):
    """NASLib's NAS-Bench-201 search space answering queries from the robust benchmark."""

    def get_type(self) -> str:
        return "nasbench201"  # so NASLib's encodings and predictors treat it as NAS-Bench-201

    def get_nbhd(self, dataset_api: dict = None) -> list:
        """NASLib's neighbourhood, with every neighbour of this class (NASLib builds base-class ones)."""
        nbrs = super().get_nbhd(dataset_api=dataset_api)
        for nbr in nbrs:
            arch = RobustNasBench201SearchSpace()
            arch.set_op_indices(list(nbr.arch.get_op_indices()))
            nbr.arch = arch
        return nbrs

    def arch_string(self) -> str:
        return convert_naslib_to_str(self) if self.instantiate_model else convert_op_indices_to_str(self.get_hash())

    def query(self, metric: "Metric", dataset: str = None, path: str = None, epoch: int = -1,
              full_lc: bool = False, dataset_api: dict = None) -> Any:
        if dataset_api is None or "robbench" not in dataset_api:
            raise RobBenchError("pass dataset_api=robbench_plugin.adapters.naslib.get_dataset_api(...)")
        bench, objective = dataset_api["robbench"], dataset_api["objective"]
        arch = self.arch_string()
        if metric is Metric.VAL_ACCURACY and not full_lc and dataset_api.get("_recording") is not None:
            dataset_api["_recording"].append(arch)
        if metric in (Metric.VAL_ACCURACY, Metric.TEST_ACCURACY):
            if full_lc:
                curve = self._curve(bench, arch, objective)
                return curve if epoch == -1 else curve[:epoch]
            fid = None if epoch == -1 else self._epoch_at(bench, epoch)
            return 100.0 * _objective_value(bench, arch, objective, fid, dataset_api.get("seed", "mean"))
        if metric == Metric.TRAIN_ACCURACY:
            name = "train_acc" if "train_acc" in bench.metrics else objective
            if full_lc:
                return self._curve(bench, arch, name)
            return 100.0 * (_objective_value(bench, arch, name) if name == objective else bench.query(arch, name))
        if metric == Metric.TRAIN_LOSS:
            if "train_loss" not in bench.metrics:
                raise RobBenchError(f"{bench.name} records no train_loss")
            return bench.query(arch, "train_loss")
        if metric == Metric.TRAIN_TIME:
            return bench.train_time(arch)
        if metric == Metric.PARAMETERS:
            return bench.query(arch, "params")
        if metric == Metric.FLOPS:
            return bench.query(arch, "flops")
        if metric == Metric.EPOCH:
            return bench.fidelities[-1]
        if metric == Metric.RAW:
            return bench.query(arch, None)
        raise InvalidChoiceError("NASLib metric for the robust benchmark", getattr(metric, "name", metric),
                                 ["VAL_ACCURACY", "TEST_ACCURACY", "TRAIN_ACCURACY", "TRAIN_LOSS", "TRAIN_TIME",
                                  "PARAMETERS", "FLOPS", "EPOCH", "RAW"])

    @staticmethod
    def _epoch_at(bench, epoch: int) -> int:
        fids = bench.fidelities
        if not 0 <= epoch < len(fids):
            raise InvalidChoiceError("epoch position", epoch, list(range(len(fids))))
        return fids[epoch]

    @staticmethod
    def _curve(bench, arch: str, objective: str) -> list[float]:
        w = scalarization_weight(objective)
        if w is not None:
            c = bench.curve(arch, "clean")
            r = bench.curve(arch, "robust")
            return [100.0 * scalarize(w, c[e], r[e]) for e in sorted(r) if e in c]
        return [100.0 * v for _, v in sorted(bench.curve(arch, objective).items())]
