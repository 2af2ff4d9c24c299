"""A NetBackup REST API simulator for the demo, the tests and the benchmarks.

It follows the vendor OpenAPI documents for the endpoints nbu-push reads, serves
deterministic data from a seed, knows the true aggregates, and injects faults on request.
"""

from .data import Dataset, generate
from .server import Faults, Simulator

__all__ = ["Dataset", "Faults", "Simulator", "generate"]
