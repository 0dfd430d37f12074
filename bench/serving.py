"""Serving the website: requests per second and latency for the server set-ups considered.

Builds a fresh instance (SQLite, the seed, optionally demo data), signs a coordinator in and
fetches the dashboard from CONCURRENCY clients for SECONDS per set-up, each set-up a real
server process on a free port:

    .venv/bin/python bench/serving.py --seconds 10 --concurrency 8 [--demo-documents 20]

waitress is measured only when installed (it is not a dependency any more).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.processes import Session, free_port, run, stop, wait_for_http

BIN = Path(sys.executable).parent
CONF = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"


def setups(port: int) -> dict[str, list[str]]:
    gunicorn = [str(BIN / "gunicorn"), "-c", str(CONF), "--bind", f"127.0.0.1:{port}"]
    app = "tracker:create_app()"
    found = {
        "gunicorn gthread 2×4": [*gunicorn, "--workers", "2", "--threads", "4", app],
        "gunicorn gthread 4×4": [*gunicorn, "--workers", "4", "--threads", "4", app],
        "gunicorn sync 4": [*gunicorn, "-k", "sync", "--workers", "4", app],
    }
    if importlib.util.find_spec("waitress"):
        found["waitress 1×8 threads"] = [
            str(BIN / "waitress-serve"),
            "--listen",
            f"127.0.0.1:{port}",
            "--threads",
            "8",
            "--call",
            "tracker:create_app",
        ]
    return found


def hammer(base: str, seconds: float, concurrency: int) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        session = Session(base)
        session.sign_in("bench", "Bench-pass-0001")
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            status, _ = session.get("/dashboard")
            elapsed = time.perf_counter() - started
            assert status == 200, status
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--demo-documents", type=int, default=0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")},
        "TRACKER_INSTANCE_PATH": str(tmp),
        "TRACKER_SECRET_KEY": secrets.token_hex(16),
        # Every simulated user comes from loopback: the per-address limits would measure
        # themselves, not the server.
        "TRACKER_RATELIMIT_ENABLED": "false",
    }
    flask = [str(BIN / "flask"), "--app", "tracker"]
    run([*flask, "db", "upgrade"], env=env, cwd=tmp)
    run([*flask, "seed"], env=env, cwd=tmp)
    run([*flask, "open-periods"], env=env, cwd=tmp)
    if args.demo_documents:
        run(
            [*flask, "demo-data", "--documents", str(args.demo_documents), "--quarters", "4"],
            env=env,
            cwd=tmp,
            timeout=600,
        )
    run(
        [*flask, "user", "create", "bench", "--role", "coordinator", "--password-stdin"],
        env=env,
        cwd=tmp,
        input="Bench-pass-0001\n",
    )
    print(f"load average at start: {os.getloadavg()[0]:.1f}; cores: {os.cpu_count()}")
    print(f"{'set-up':24} {'req/s':>7} {'median ms':>10} {'p95 ms':>8}")
    port = free_port()
    for name, command in setups(port).items():
        server = subprocess.Popen(
            command,
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=30, process=server)
            hammer(f"http://127.0.0.1:{port}", 2, args.concurrency)  # warm every worker
            latencies = sorted(hammer(f"http://127.0.0.1:{port}", args.seconds, args.concurrency))
        finally:
            stop(server)
        p95 = latencies[int(len(latencies) * 0.95)]
        print(
            f"{name:24} {len(latencies) / args.seconds:7.1f} "
            f"{statistics.median(latencies) * 1000:10.1f} {p95 * 1000:8.1f}"
        )


if __name__ == "__main__":
    main()
