"""NASLib on Python >= 3.10: the compatibility aliases it needs (``collections.Iterable`` & co. from
``collections.abc``), then NASLib's names the adapter uses; without NASLib, an error that says how to
get it (see :mod:`robbench_plugin.adapters.naslib`)."""
from __future__ import annotations

import collections
import collections.abc

for _name in ("Iterable", "Mapping", "MutableMapping", "Sequence", "Callable", "MutableSet", "Set"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

try:
    from naslib.search_spaces import NasBench201SearchSpace
    from naslib.search_spaces.core.query_metrics import Metric
    from naslib.search_spaces.nasbench201.conversions import convert_naslib_to_str, convert_op_indices_to_str
except ImportError as exc:
    raise ImportError(
        "NASLib is required for robbench_plugin.adapters.naslib but is not importable. NASLib is not on PyPI: "
        "get its source (github.com/automl/NASLib), put it on PYTHONPATH (its setup.py does not install on "
        "Python 3.11), and install its requirements; docs/naslib.md lists the set-up that was tested "
        f"(original error: {exc})") from exc

__all__ = ["Metric", "NasBench201SearchSpace", "convert_naslib_to_str", "convert_op_indices_to_str"]
