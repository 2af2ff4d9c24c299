"""`nbu-push --demo`: point the run at a simulator started in this process."""

from __future__ import annotations

import logging

from .server import Simulator

log = logging.getLogger("nbu_push")

DEMO_JOBS = 5000


def start_demo(raw: dict) -> Simulator:
    """Start a simulator on a free loopback port and rewrite the settings to read it."""
    simulator = Simulator(jobs=DEMO_JOBS).start()
    for name in ("url", "api_key", "api_key_file", "username", "password", "password_file",
                 "ca_bundle", "api_version"):
        raw[name] = None
    raw.update(url=simulator.url, api_key=simulator.api_key, site=raw.get("site") or "demo")
    log.info("demo: reading the built-in NetBackup simulator at %s (%d jobs)",
             simulator.url, DEMO_JOBS)
    return simulator
