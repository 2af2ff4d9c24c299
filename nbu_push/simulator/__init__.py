"""A NetBackup REST API simulator for the demo, the tests and the benchmarks.

It follows the vendor OpenAPI documents for the endpoints nbu-push reads (one module per
endpoint in `endpoints/`), serves deterministic data from a seed, and injects faults on
request. What nbu-push must publish for that data is the tests' business (tests/truth/).
"""

from .data import Dataset, generate
from .server import Faults, Simulator

__all__ = ["Dataset", "Faults", "Simulator", "generate"]
