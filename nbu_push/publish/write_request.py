"""Prometheus remote write 1.0 bodies: the exposition's samples as protobuf `WriteRequest`s,
Snappy block compressed (https://prometheus.io/docs/specs/prw/remote_write_spec/).

The four protobuf messages are written by hand (a dozen lines, no generated code, no
protobuf runtime): `WriteRequest{repeated TimeSeries timeseries = 1}`,
`TimeSeries{repeated Label labels = 1; repeated Sample samples = 2}`,
`Label{string name = 1; string value = 2}`, `Sample{double value = 1; int64 timestamp = 2}`.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Iterator

import cramjam
from prometheus_client.parser import text_string_to_metric_families

Labels = tuple[tuple[str, str], ...]  # sorted by name, `__name__` included
# Prometheus' staleness marker: a NaN with this exact bit pattern ends a series at once.
STALE_NAN = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]
SERIES_PER_REQUEST = 2000  # Prometheus' own max_samples_per_send: every receiver's size


def series_of(exposition: bytes) -> dict[Labels, float]:
    """Every sample of a text exposition by its label set (`__name__` included)."""
    samples: dict[Labels, float] = {}
    for family in text_string_to_metric_families(exposition.decode("utf-8")):
        for sample in family.samples:
            labels = tuple(sorted({**sample.labels, "__name__": sample.name}.items()))
            samples[labels] = sample.value
    return samples


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def time_series(labels: Labels, value: float, timestamp_ms: int) -> bytes:
    encoded = b"".join(_field(1, _field(1, name.encode()) + _field(2, text.encode()))
                       for name, text in labels)
    sample = b"\x09" + struct.pack("<d", value) + b"\x10" + _varint(timestamp_ms)
    return encoded + _field(2, sample)


def write_requests(series: Iterable[tuple[Labels, float]], timestamp_ms: int,
                   per_request: int = SERIES_PER_REQUEST) -> Iterator[bytes]:
    """Snappy-compressed `WriteRequest`s of at most `per_request` series each, every sample
    at `timestamp_ms`."""
    batch: list[bytes] = []
    for labels, value in series:
        batch.append(_field(1, time_series(labels, value, timestamp_ms)))
        if len(batch) == per_request:
            yield compress(b"".join(batch))
            batch = []
    if batch:
        yield compress(b"".join(batch))


def compress(message: bytes) -> bytes:
    """Snappy's block format (not the framed one), as remote write requires."""
    return bytes(cramjam.snappy.compress_raw(message))


def is_stale(value: float) -> bool:
    return math.isnan(value) and struct.pack("<d", value) == struct.pack("<d", STALE_NAN)
