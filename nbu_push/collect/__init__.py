"""The collectors: every module in this package (but `base`) declares one `COLLECTOR`.

Adding a collector is one new module here (plus its tests and docs): it is found by
`collectors()`, run by run.py and rendered by metrics.py without an edit elsewhere. A module
without a COLLECTOR, two collectors with one name, or one family owned by two collectors
fails when the collectors are first loaded, never silently at run time.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Mapping
from typing import Any

from .base import Collector

NOT_COLLECTORS = frozenset({"base"})


@functools.cache
def collectors() -> Mapping[str, Collector[Any]]:
    """Every declared collector by name, in name order (loaded once)."""
    found: dict[str, Collector[Any]] = {}
    owners: dict[str, str] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name in NOT_COLLECTORS or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        collector = getattr(module, "COLLECTOR", None)
        if not isinstance(collector, Collector):
            raise TypeError(f"{module.__name__} declares no COLLECTOR = Collector(...)")
        if collector.name in found:
            raise ValueError(f"two collectors are named {collector.name!r}")
        for family in collector.families:
            if family.name in owners:
                raise ValueError(f"metric family {family.name} is declared by both"
                                 f" {owners[family.name]} and {collector.name}")
            owners[family.name] = collector.name
        found[collector.name] = collector
    return dict(sorted(found.items()))
