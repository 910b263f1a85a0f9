"""Running jobs in parallel: local spawned processes of one torch thread each, or tasks on a Ray
cluster (see :mod:`robbench_plugin.train.builder`)."""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence


from ..errors import InvalidValueError, check_choice

BACKENDS = ("local", "ray")


def _set_one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def map_jobs(fn: Callable[[Any], Any], jobs: Sequence[Any], workers: int = 2, backend: str = "local",
             ray_address: str | None = None, device: str = "cpu", gpus_per_run: float | None = None) -> Iterator[Any]:
    """``fn(job)`` for every job, in parallel, yielding results in completion order.

    ``backend="local"``: ``workers`` spawned processes of one torch thread each (``workers=1``:
    in this process, its torch thread setting restored afterwards). ``"ray"`` (extra
    ``distributed``): one task per job on the Ray cluster at ``ray_address`` (a local Ray with
    ``workers`` CPUs when None; tasks are spread over the cluster's nodes). Each task
    asks for one CPU and, on CUDA (``device`` cuda/cuda:N, or auto on a cluster with GPUs),
    ``gpus_per_run`` GPUs (default 0.25: four small NB201 networks share a GPU).
    """
    check_choice("backend", backend, BACKENDS)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidValueError(f"workers must be an integer >= 1, got {workers!r}")
    if gpus_per_run is not None and not (isinstance(gpus_per_run, (int, float)) and 0 <= gpus_per_run <= 8):
        raise InvalidValueError(f"gpus_per_run must be a number in [0, 8], got {gpus_per_run!r}")
    if backend == "ray":
        return _ray_map(fn, jobs, workers, ray_address, device, gpus_per_run)
    return _local_map(fn, jobs, workers)


def _local_map(fn: Callable[[Any], Any], jobs: Sequence[Any], workers: int) -> Iterator[Any]:
    import multiprocessing as mp

    if workers <= 1:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for job in jobs:
                yield fn(job)
        finally:
            torch.set_num_threads(threads)
        return
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_set_one_thread) as pool:
        yield from pool.imap_unordered(fn, jobs, chunksize=1)


def _ray_map(fn: Callable[[Any], Any], jobs: Sequence[Any], workers: int, address: str | None, device: str,
             gpus_per_run: float | None) -> Iterator[Any]:
    try:
        import ray
    except ImportError as exc:
        from ..errors import MissingExtraError

        raise MissingExtraError("ray", "distributed") from exc
    if not ray.is_initialized():
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False)
    cuda = str(device).startswith("cuda") or (device == "auto" and ray.cluster_resources().get("GPU", 0) > 0)
    gpus = (0.25 if gpus_per_run is None else float(gpus_per_run)) if cuda else 0.0

    @ray.remote(num_cpus=1, num_gpus=gpus, scheduling_strategy="SPREAD")
    def remote_job(job):
        _set_one_thread()
        return fn(job)

    pending = [remote_job.remote(j) for j in jobs]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        yield ray.get(ready[0])
