"""The text exposition format (0.0.4): written here, and merged family by family as a
Pushgateway POST does.

`family_text` writes byte for byte what prometheus_client's `generate_latest` writes for the
same `GaugeMetricFamily` and `CounterMetricFamily` objects (tests/test_metrics.py holds it to
that, prometheus_client as the oracle), at a quarter of the cost: `generate_latest`
validates every label name of every sample, which `Family` checked once when declared, and
a registry builds a dict per sample. A run does not import prometheus_client at all (40 ms:
it pulls in http.server); only a partial run's merge needs its parser.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence

Row = tuple[Sequence[str], float]  # label values, value


def go_float(value: float) -> str:
    """A sample value as Prometheus (in Go) writes it: `+Inf`, `-Inf`, `NaN`, and an
    exponent from 1e+06 up, where Python's repr would still write all the digits."""
    if type(value) is int and 0 <= value < 1_000_000:  # a count: what repr(float) writes
        return f"{value}.0"
    number = float(value)
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    if math.isnan(number):
        return "NaN"
    text = repr(number)
    dot = text.find(".")
    if number > 0 and dot > 6:
        mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1:]}".rstrip("0.")
        return f"{mantissa}e+{dot - 1:02d}"
    return text


def _escape(value: str) -> str:
    """A label value as the exposition quotes it."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r'\"')


class _Escaped(dict):
    """Label values, escaped once each: a family repeats a few hundred values many times."""

    def __missing__(self, value: str) -> str:
        self[value] = escaped = _escape(value)
        return escaped


def family_text(name: str, documentation: str, labels: Sequence[str], rows: Iterable[Row],
                counter: bool = False, prefix: Sequence[str] = ()) -> str:
    """One family: HELP, TYPE and a line per series, label names in sorted order. `prefix`
    holds the values of the first labels, the same on every series (a run's `site`)."""
    return "".join(family_lines(name, documentation, labels, rows, counter, prefix))


def family_lines(name: str, documentation: str, labels: Sequence[str], rows: Iterable[Row],
                 counter: bool = False, prefix: Sequence[str] = ()) -> Iterator[str]:
    """`family_text`, a line at a time (HELP and TYPE come as one)."""
    help_text = documentation.replace("\\", r"\\").replace("\n", r"\n")
    yield f"# HELP {name} {help_text}\n# TYPE {name} {'counter' if counter else 'gauge'}\n"
    width = len(labels) - len(prefix)
    # One %-template per family: label names in sorted order, the prefix's values written
    # in, a %s for each value of a row; `picks` orders a row's values as the template does.
    order = sorted(range(len(labels)), key=labels.__getitem__)
    pairs = ",".join(f'{labels[index]}="%s"' if index >= len(prefix) else
                     f'{labels[index]}="{_escape(prefix[index]).replace("%", "%%")}"'
                     for index in order)
    template = f"{name}{{{pairs}}} %s\n" if labels else f"{name} %s\n"
    picks = [index - len(prefix) for index in order if index >= len(prefix)]
    reorder = picks != sorted(picks)
    escaped = _Escaped()
    for values, value in rows:
        if len(values) != width:  # a short row would lose labels
            raise ValueError(f"{name}: {len(values)} label values for {width} labels")
        if reorder:
            values = [values[index] for index in picks]
        yield template % (*map(escaped.__getitem__, values), go_float(value))


def family_blocks(text: str) -> dict[str, str]:
    """Split an exposition written by prometheus_client into `name -> HELP/TYPE/samples`."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines(keepends=True):
        if line.startswith("# HELP "):
            current = blocks.setdefault(line.split(" ", 3)[2], [])
        if current is not None:
            current.append(line)
    return {name: "".join(lines) for name, lines in blocks.items()}


def is_valid(text: str) -> bool:
    # imported here: only a partial run merges (see the module's docstring)
    from prometheus_client.parser import text_string_to_metric_families

    try:
        for _ in text_string_to_metric_families(text):
            pass
    except (ValueError, TypeError, IndexError):
        return False
    return True


def merged(previous: bytes, update: Iterable[bytes]) -> Iterator[bytes]:
    """`update` (chunks of whole lines, passed on as they come), then every family of
    `previous` that `update` did not carry.

    Each family of `previous` is checked on its own: one unparseable family is dropped (as
    node_exporter would drop the whole file), the others' last good data stays.
    """
    new_names: set[str] = set()
    for chunk in update:
        new_names.update(family_blocks(chunk.decode("utf-8")))  # whole lines: whole names
        yield chunk
    old_text = previous.decode("utf-8", errors="replace")
    kept = [block for name, block in family_blocks(old_text).items()
            if name not in new_names and is_valid(block)]
    if kept:
        yield "".join(kept).encode("utf-8")
