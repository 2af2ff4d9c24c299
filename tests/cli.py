"""Run the real `nbu-push` process, as cron or Kubernetes would."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NBU_", "PUSHGATEWAY_"))}
    env.update(extra)
    return env


def nbu_push(*args: str, env: dict[str, str] | None = None, cwd: str | None = None,
             timeout: float = 60) -> Result:
    proc = subprocess.run([sys.executable, "-m", "nbu_push", *args],
                          env=env if env is not None else clean_env(), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def sim_env(sim, **extra: str) -> dict[str, str]:
    return clean_env(**{"NBU_URL": sim.url, "NBU_API_KEY": sim.api_key, "NBU_SITE": "test-site",
                        **extra})


def failed_alone(result: Result, collector: str) -> dict[str, dict[tuple, float]]:
    """The published series of a `--dry-run` in which `collector` alone failed (exit 3, its
    permission named, no traceback); the other collectors succeeded."""
    from nbu_push.collect import collectors

    from .truth import series

    assert result.code == 3, result.stderr
    published = series(result.stdout)
    success = {labels[0][1]: v for labels, v in published["nbu_push_collector_success"].items()}
    assert success == {name: float(name != collector) for name in collectors()}
    assert collectors()[collector].permission in result.stderr
    assert "Traceback" not in result.stderr
    return published
