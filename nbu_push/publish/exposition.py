"""Merge two text expositions family by family, as a Pushgateway POST does."""

from __future__ import annotations


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
    # imported here: only a partial run merges, and prometheus_client costs 20 ms to import
    from prometheus_client.parser import text_string_to_metric_families

    try:
        for _ in text_string_to_metric_families(text):
            pass
    except (ValueError, TypeError, IndexError):
        return False
    return True


def merge(previous: bytes, update: bytes) -> bytes:
    """`update` plus every family of `previous` that `update` does not carry.

    Each family of `previous` is checked on its own: one unparseable family is dropped (as
    node_exporter would drop the whole file), the others' last good data stays.
    """
    old_text = previous.decode("utf-8", errors="replace")
    new_names = family_blocks(update.decode("utf-8")).keys()
    kept = [block for name, block in family_blocks(old_text).items()
            if name not in new_names and is_valid(block)]
    return update + "".join(kept).encode("utf-8")
