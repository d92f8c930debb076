"""How far from the HTTP ceiling a fixed amount of work per request puts a server, on this machine.

`make bench` compares CEE with a constant responder on the same stack. This script answers the
question behind those ratios: if a request costs W microseconds of CPU on top of the constant
answer (and does nothing else: no I/O, no database), what fraction of the ceiling is left? It
runs the same constant responder as `cee serve --ceiling`, with a busy loop of W µs first, under
the same wrk load (32 connections), for a few values of W and for 1 and 2 processes.

    .venv/bin/python bench/sensitivity.py            # about 1 minute; needs Debian's wrk

Bounded (each run a few seconds), loopback only.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import CONNECTIONS, HOST, WRK_SCRIPT, free_port  # noqa: E402

UVICORN = str(Path(sys.executable).parent / "uvicorn")


def busy_app_module(work: Path) -> None:
    (work / "busy_ceiling.py").write_text(
        "import os, time\n"
        "from cee.web.app import ceiling\n"
        "WORK = float(os.environ.get('BUSY_US', '0')) / 1e6\n"
        "async def app(scope, receive, send):\n"
        "    if WORK and scope['type'] == 'http':\n"
        "        until = time.perf_counter() + WORK\n"
        "        while time.perf_counter() < until:\n"
        "            pass\n"
        "    await ceiling(scope, receive, send)\n"
    )


def measure(work: Path, busy_us: int, processes: int, seconds: int) -> float:
    port = free_port()
    env = {**os.environ, "BUSY_US": str(busy_us), "PYTHONPATH": str(work)}
    args = [UVICORN, "busy_ceiling:app", "--host", HOST, "--port", str(port)]
    args += ["--workers", str(processes), "--loop", "uvloop", "--http", "httptools"]
    args += ["--no-access-log", "--log-level", "warning", "--lifespan", "off"]
    server = subprocess.Popen(args, env=env)
    try:
        time.sleep(1.5 + processes)
        script = work / "bench.lua"
        script.write_text(WRK_SCRIPT)
        url = f"http://{HOST}:{port}/apiv2?type=contact&activity=addsync&apikey=x"
        out = subprocess.run(
            ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(script), url, "--", "s"],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
        line = next(x for x in out.splitlines() if x.startswith("Requests/sec:"))
        return float(line.split()[1])
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--work-us", default="0,15,30,60,90")
    args = parser.parse_args()
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"cee-sensitivity-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    busy_app_module(work)
    print(f"{'work per request':>18}  {'processes':>9}  {'req/s':>8}  {'of ceiling':>10}")
    for processes in (1, 2):
        ceiling = 0.0
        for busy in [int(x) for x in args.work_us.split(",")]:
            rate = measure(work, busy, processes, args.seconds)
            ceiling = ceiling or rate
            print(f"{busy:>15} µs  {processes:>9}  {rate:>8,.0f}  {rate / ceiling:>10.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
