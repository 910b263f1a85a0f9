"""Who trains a run: a worker's identity, the machine it runs on, and whether a worker that owned
a run is certainly gone (see :mod:`robbench_plugin.store`)."""
from __future__ import annotations

import os
import socket
import sys
import uuid
from pathlib import Path


def _process_locator() -> str | None:
    """``boot_id/pid namespace/pid`` of this process, or None where the system does not say (not
    Linux): what makes "this pid no longer exists" a fact and not a guess."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pidns = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{boot}/{pidns}/{os.getpid()}" if boot and pidns else None


def new_owner() -> str:
    """A worker identity: a random token, followed by ``@<boot id>/<pid namespace>/<pid>`` where the
    process can be located (see :func:`_owner_gone`)."""
    token = uuid.uuid4().hex
    where = _process_locator()
    return f"{token}@{where}" if where else token


def current_node() -> str:
    """The machine a run is trained on: the Ray node id inside a Ray worker, else the host name."""
    ray = sys.modules.get("ray")
    if ray is not None:
        try:
            if ray.is_initialized():
                return f"ray:{ray.get_runtime_context().get_node_id()}"
        except Exception:  # not a Ray worker after all
            pass
    return socket.gethostname()


def _owner_gone(owner: str) -> bool:
    """True only when ``owner`` certainly was a process that no longer exists: it ran in the same
    boot of the kernel and the same pid namespace as this process, and its pid is free here. Any
    other owner (another machine or container, an older identity form) is waited for until its
    lease runs out."""
    _, at, where = owner.partition("@")
    mine = _process_locator()
    if not at or mine is None:
        return False
    boot, _, rest = where.partition("/")
    pidns, _, pid = rest.rpartition("/")
    my_boot, _, my_rest = mine.partition("/")
    my_pidns = my_rest.rpartition("/")[0]
    if boot != my_boot or pidns != my_pidns or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
