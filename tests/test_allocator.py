"""nbu_push/runtime/allocator.py: the threads of a run share one malloc arena (glibc)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

# Four threads that each allocate (1 KB objects: malloc, not the interpreter's small-object
# allocator) while the others live, then glibc's own report of its arenas (malloc_info: one
# <heap> per arena).
PROGRAM = textwrap.dedent("""
    import ctypes, sys, tempfile, threading
    from nbu_push.runtime.allocator import share_one_arena

    if sys.argv[1] == "share":
        share_one_arena()
    kept, together = [], threading.Barrier(4)
    def allocate():  # every thread is alive while the others allocate
        kept.extend(bytes(1000 + i) for i in range(2000))
        together.wait()
    threads = [threading.Thread(target=allocate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    with tempfile.NamedTemporaryFile("r") as report:
        stream = libc.fopen(report.name.encode(), b"w")
        libc.malloc_info(0, ctypes.c_void_p(stream))
        libc.fclose(ctypes.c_void_p(stream))
        print(report.read().count("<heap nr="))
""")


def arenas(mode: str, **env: str) -> int:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    done = subprocess.run([sys.executable, "-c", PROGRAM, mode], env=environment,
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_threads_share_one_arena() -> None:
    assert arenas("alone") == 5  # the default: each thread took an arena of its own
    assert arenas("share") == 1


def test_an_arena_limit_in_the_environment_is_kept() -> None:
    assert arenas("share", MALLOC_ARENA_MAX="3") == 3
