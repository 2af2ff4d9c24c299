"""The disk_pools collector: sizes where the pool reports them, state and watermarks."""

from __future__ import annotations

from nbu_push.simulator import Simulator

from . import Reading, Series


def expected(sim: Simulator, reading: Reading) -> Series:
    series: Series = {f"nbu_disk_pool_{name}": {} for name in (
        "usable_bytes", "available_bytes", "raw_bytes", "used_bytes", "up",
        "high_watermark_ratio", "low_watermark_ratio")}
    for pool in sim.dataset.pools:
        labels = (("disk_pool", pool.name), ("storage_server_type", pool.server_type))
        for name, value in (("usable_bytes", pool.usable), ("available_bytes", pool.available),
                            ("raw_bytes", pool.raw), ("used_bytes", pool.used),
                            ("up", 1 if pool.state == "UP" else 0),
                            ("high_watermark_ratio", pool.high_percent / 100),
                            ("low_watermark_ratio", pool.low_percent / 100)):
            if value is not None:
                series[f"nbu_disk_pool_{name}"][labels] = float(value)
    return series
