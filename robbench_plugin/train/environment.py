"""Where a CPU run was trained, as far as its last bits depend on it: the torch version, the SIMD
level torch's kernels use, the CPU model, and the CPU's own level where torch is held below it.

A build's records carry :func:`environment`; its manifest pins :func:`build_environment`; a build
made at a lower SIMD level than this machine's goes on with torch held at that level
(:func:`held_level`, ``ATEN_CPU_CAPABILITY``).
"""
from __future__ import annotations

import functools
import os
from pathlib import Path


def cpu_model() -> str:
    """The CPU this process runs on: its vendor and model name as the kernel reports them
    (``/proc/cpuinfo``; elsewhere :func:`platform.processor`), e.g. ``"AuthenticAMD AMD EPYC"``."""
    import platform

    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    fields = {}
    for line in info.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return " ".join(v for v in (fields.get("vendor_id"), fields.get("model name")) if v) or platform.machine()


# what a build's manifest pins for every record (resuming under other values is refused); the rest
# of ``environment()`` (the CPU) is recorded per run
BUILD_ENVIRONMENT_KEYS = ("torch", "cpu_capability")


def environment() -> dict:
    """What decides a CPU run's last bits besides its recipe, seed and data: the torch version, the
    SIMD level its kernels use (``torch.backends.cpu.get_cpu_capability``) and the CPU
    (:func:`cpu_model`). Kernels choose their code paths by CPU, so the same torch at the same SIMD
    level gives other last bits on another CPU model, and training grows them (seven Fashion-MNIST
    classes retrained on another CPU than the one that built them end up 0.010 apart in robust
    accuracy after 6 epochs at the median, 0.027 at most). Every record of a build carries the
    environment it was trained in, so it can be reproduced bit for bit there; a build's manifest
    pins the torch version and SIMD level (:data:`BUILD_ENVIRONMENT_KEYS`) and refuses to be
    resumed under others, while its runs may come from several CPUs (a long build outlives a
    machine).

    Where ``ATEN_CPU_CAPABILITY`` holds torch below the CPU's own level (to go on with a build made at
    a lower one), ``native_cpu_capability`` records the level torch picks without it: one CPU model
    name covers CPUs with and without AVX512 (virtual machines report e.g. ``AMD EPYC`` for
    both), and libraries outside torch's own kernels (oneDNN's convolutions) still choose their code
    by the CPU, so a run held at AVX2 on an AVX512 CPU is not one trained on an AVX2 CPU. The key is
    absent where the levels agree, as in records written before it existed."""
    return dict(_environment())


@functools.lru_cache(maxsize=1)
def _environment() -> tuple[tuple[str, str], ...]:
    import torch

    level = torch.backends.cpu.get_cpu_capability()
    env = (("torch", torch.__version__), ("cpu_capability", level), ("cpu", cpu_model()))
    native = native_cpu_capability() if os.environ.get("ATEN_CPU_CAPABILITY") else level
    return env + ((("native_cpu_capability", native),) if native != level else ())


def native_cpu_capability() -> str:
    """The SIMD level torch picks on this CPU without ``ATEN_CPU_CAPABILITY`` (torch reads the
    variable once, when it starts: asked of a fresh interpreter without it, about a second)."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
    return subprocess.run([sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"],
                          env=env, capture_output=True, text=True, check=True).stdout.strip()


def build_environment() -> dict:
    """The part of :func:`environment` a build's manifest pins (:data:`BUILD_ENVIRONMENT_KEYS`)."""
    return {k: environment()[k] for k in BUILD_ENVIRONMENT_KEYS}


# torch's SIMD levels on x86, lowest first: ATEN_CPU_CAPABILITY=<level in lower case> makes torch use
# a lower level's kernels than the CPU has (it cannot raise it)
SIMD_LEVELS = ("DEFAULT", "AVX2", "AVX512")


def held_level(built: dict, here: dict) -> str | None:
    """The SIMD level to hold torch at (``ATEN_CPU_CAPABILITY``) to go on with, or reproduce, what
    was made in environment ``built`` on a machine whose environment is ``here`` (both as
    :func:`build_environment` or :func:`environment` give them): ``built``'s level where it is lower
    than ``here``'s and the torch versions agree, else None."""
    level, ours = built.get("cpu_capability"), here.get("cpu_capability")
    if level in SIMD_LEVELS and ours in SIMD_LEVELS and SIMD_LEVELS.index(level) < SIMD_LEVELS.index(ours) \
            and built.get("torch") == here.get("torch"):
        return level
    return None


def lower_simd_hint(have: dict, wanted: dict) -> str:
    """How to go on with a build (manifest ``have``) made at a lower SIMD level than this machine's
    (``wanted``), as a clause to append to a refusal, or ''."""
    level = held_level(have.get("environment") or {}, wanted.get("environment") or {})
    return f"; or go on at the build's level: ATEN_CPU_CAPABILITY={level.lower()} robbench build ..." if level else ""
