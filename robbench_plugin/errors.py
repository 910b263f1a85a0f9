"""Exception types. Every error names the bad value and, where finite, the valid choices."""
from __future__ import annotations

from typing import Iterable


class RobBenchError(RuntimeError):
    """Base class of the package's own errors."""


class InvalidArchError(RobBenchError, ValueError):
    """An architecture given in a form that is not one of the 15625 NAS-Bench-201 cells."""


class InvalidValueError(RobBenchError, ValueError):
    """A value outside its valid range (a count, a fraction, a bound, a shape); the message names
    the value and the valid range."""


class InvalidChoiceError(RobBenchError, ValueError):
    """A name (dataset, metric, seed, mode, ...) that is not among the valid choices."""

    def __init__(self, what: str, value: object, choices: Iterable[object]):
        self.what, self.value, self.choices = what, value, list(choices)
        shown = ", ".join(repr(c) for c in self.choices[:40])
        more = f" (+{len(self.choices) - 40} more)" if len(self.choices) > 40 else ""
        super().__init__(f"unknown {what} {value!r}; valid: {shown}{more}")


class DataFileError(RobBenchError, ValueError):
    """A data file that is missing, truncated, corrupt or not in the expected format."""


class DeviceUnavailableError(RobBenchError, ValueError):
    """A compute device that is not valid or not present on this machine (e.g. ``cuda`` without a GPU)."""


class UserPathError(RobBenchError, OSError):
    """A path the user gave (an output folder, a data folder, a file to read) that cannot be read or
    written: the message names the option, the path and the system's reason."""


class MissingExtraError(RobBenchError, ImportError):
    """An optional dependency is not installed; the message names the pip command."""

    def __init__(self, package: str, extra: str):
        super().__init__(
            f"{package} is required for this feature but is not installed; "
            f"install it with: pip install 'robbench-plugin[{extra}]'"
        )


def check_choice(what: str, value: object, choices: Iterable[object]) -> None:
    """Raise :class:`InvalidChoiceError` unless ``value`` is one of ``choices``."""
    choices = list(choices)
    try:
        ok = value in choices
    except TypeError:
        ok = False
    if not ok:
        raise InvalidChoiceError(what, value, choices)
