"""The metric layer: families, the run's own families, the exposition text.

Collectors declare `Family` objects (family.py); the run's own `nbu_push_*` families live in
run_families.py and no collector may declare one; exposition.py renders a RunReport, each
collector inside its own guard; text.py writes and merges the text format. The outputs in
publish/ take the bytes and nothing else.
"""

from .family import Family, Sample

__all__ = ["Family", "Sample"]
