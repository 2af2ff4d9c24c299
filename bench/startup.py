"""Time from process start to the first request, nbu-push beside the bare client.

A listening socket on loopback stands in for the primary: the clock runs from spawning the
process to the moment its first connection is accepted (the request that would follow is
not answered; the process is then killed). Nothing else is measured, so this is the start-up
a run pays before any NetBackup latency: the interpreter, imports, settings.

    .venv/bin/python bench/startup.py --repeat 20
"""

from __future__ import annotations

import argparse
import compileall
import os
import socket
import statistics
import subprocess
import sys
import time

import nbu_push

BARE = os.path.join(os.path.dirname(__file__), "bare.py")


def first_connection(command: list[str], env: dict[str, str], listener: socket.socket) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        connection, _ = listener.accept()
        took = time.perf_counter() - started
        connection.close()
    finally:
        proc.kill()
        proc.wait()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    # as installed: pip compiles the bytecode, and this machine sets PYTHONDONTWRITEBYTECODE
    compileall.compile_dir(os.path.dirname(nbu_push.__file__), quiet=1)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(30)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/netbackup"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBU_", "PUSHGATEWAY_"))}
    env.update(NBU_URL=url, NBU_API_KEY="startup-probe", NBU_SITE="startup",
               NBU_STATE_FILE="off")
    commands = {
        "nbu-push --dry-run": [sys.executable, "-m", "nbu_push", "--dry-run"],
        "bare client": [sys.executable, BARE, url, "startup-probe", "unused.pem"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeat):  # interleaved: both see the same machine
        for name, command in commands.items():
            times[name].append(first_connection(command, env, listener))
    print("| process | first request after, ms (median / best) |")
    print("|---|---:|")
    for name, taken in times.items():
        print(f"| {name} | {statistics.median(taken) * 1000:.0f} / {min(taken) * 1000:.0f} |")


if __name__ == "__main__":
    main()
