"""The certificates collector: active, not deleted host certificates by expiry, and the
active CA; "now" is the simulated primary's clock, the certificates are days away from it."""

from __future__ import annotations

from nbu_push.simulator import Simulator

from . import Reading, Series


def expected(sim: Simulator, reading: Reading) -> Series:
    now = sim.now_ms()
    records = sim.records["certificates"]
    active = [h["notAfter"] for h in records["hosts"]
              if h["state"] == 1 and not h["isCertDeleted"]]
    cas = {(("ca", ca["attributes"]["nbcaCertDetails"]["subjectCN"]),):
           ca["attributes"]["nbcaCertDetails"]["notAfter"] for ca in records["cas"]
           if ca["attributes"]["nbcaCertDetails"]["state"] == "ACTIVE"}
    from datetime import datetime

    return {
        "nbu_certificates_expiring": {
            (("within", f"{days}d"),): float(sum(after < now + days * 86_400_000
                                                 for after in active)) for days in (30, 60)},
        "nbu_certificate_earliest_expiry_timestamp_seconds": {(): min(active) / 1000},
        "nbu_ca_certificate_expiry_timestamp_seconds": {
            key: datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
            for key, text in cas.items()},
    }
