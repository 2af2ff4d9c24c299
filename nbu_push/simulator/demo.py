"""`nbu-push --demo`: point the run at a simulator started in this process."""

from __future__ import annotations

import logging

from .server import Simulator

log = logging.getLogger("nbu_push")

DEMO_JOBS = 5000


def start_demo() -> tuple[Simulator, dict[str, str | None]]:
    """Start a simulator on a free loopback port; the settings that point a run at it."""
    simulator = Simulator(jobs=DEMO_JOBS, record=False).start()
    overrides: dict[str, str | None] = dict.fromkeys(
        ("api_key_file", "username", "password", "password_file", "ca_bundle", "api_version"))
    overrides.update(url=simulator.url, api_key=simulator.api_key)
    log.info("demo: reading the built-in NetBackup simulator at %s (%d jobs)",
             simulator.url, DEMO_JOBS)
    return simulator, overrides
