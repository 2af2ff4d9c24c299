"""The configured_clients collector: every client the policies name."""

from __future__ import annotations

from nbu_push.simulator import Simulator

from . import Reading, Series


def expected(sim: Simulator, reading: Reading) -> Series:
    return {"nbu_client_configured": {(("client", name),): 1.0 for name in sim.configured}}
