"""What the tape collectors share: the `robot` label and the tokens of a status field."""

from __future__ import annotations

import re

from ..netbackup.fields import label, number

NOT_IN_A_LIBRARY = ("NA", "NOT_ROBOTIC")


def robot_label(robot_type: object, robot_number: object) -> str:
    """`TLD(0)` from robotType and robotNumber; `standalone` for a drive or medium outside a
    library (NA, NOT_ROBOTIC); the type alone when the number is missing."""
    kind = label(robot_type, "").upper()
    if not kind:
        return "unknown"
    if kind in NOT_IN_A_LIBRARY:
        return "standalone"
    index = number(robot_number)
    return f"{kind}({int(index)})" if index is not None and index >= 0 else kind


def tokens(value: object) -> frozenset[str]:
    """The upper-case words of a status field: `mediaStatus` is a space-separated
    combination, and the documents spell tape alerts with a trailing comma (`CLEAN_NOW,`)."""
    if not isinstance(value, str):
        return frozenset()
    return frozenset(word.upper() for word in re.split(r"[\s,]+", value) if word)
