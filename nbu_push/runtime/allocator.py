"""One malloc arena for the whole process (glibc).

glibc gives each thread that allocates an arena of its own (up to eight per core), and an
arena keeps what is freed in it for its own thread. A run's threads (NBU_CONCURRENCY page
readers, the collectors, the publisher) each read bodies of about 200 KB: at 100,000 jobs
1.4 to 3 MiB of peak RSS sat in arenas no other thread could reuse (docs/performance.md).
The interpreter lock already serializes nearly every allocation, so sharing one arena costs
no measurable time. glibc fixes the arena limit when the first thread allocates: this must
run before any thread starts. An arena limit set in the environment (MALLOC_ARENA_MAX) is
left as it is; without glibc's `mallopt` (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import os

M_ARENA_MAX = -8  # <malloc.h>


def share_one_arena() -> None:
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_ARENA_MAX, 1)
