"""Served load: the website as production runs it, with many signed-in users at once.

Builds a fresh instance (its own SQLite file, or an emptied PostgreSQL database given by
``--url``), seeds it, fills it with ``flask demo-data``, makes the bench's accounts (one
coordinator per simulated dashboard reader, one liaison per department, a coordinator's API
token), then starts the production server (gunicorn with ``deploy/gunicorn.conf.py``: gthread
workers, 4 threads each) as a real process on a free loopback port, for each number of workers
asked for. Against it, for each number of concurrent users, it runs for ``--seconds``:

* ``healthz``: ``GET /healthz``, the floor: what the server, the network stack and this client
  do with no application work;
* ``dashboard``: coordinators reading ``/dashboard`` (the page checked to be the dashboard);
* ``save``: liaisons opening their report's edit page and saving it as a draft (each user
  edits an obligation of its own department in the current quarter; the save checked to have
  been stored: the next edit page carries the next version);
* ``api``: API clients listing the current quarter's obligations (``GET /api/v1/obligations``);
* ``mixed``: a third of the users each of dashboard readers, draft savers and API clients.

and prints requests per second, p50 / p95 / p99 latency, errors (any status but the expected
one, a wrong page, a timeout) and the server's CPU seconds per request (every process of the
server's group, read from ``/proc``), with ``healthz`` as the floor in the same run:

    .venv/bin/python bench/load.py                                   # SQLite, 20 documents
    .venv/bin/python bench/load.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/load.py --documents 200 --quarters 20 --users 1,8,32 --workers 1,2

The simulated users come from loopback, so the per-address rate limits are off
(``TRACKER_RATELIMIT_ENABLED=false``), and the bench's coordinators sign in with a password
alone (``TRACKER_TOTP_REQUIRED_ROLES`` without ``coordinator``); nothing else differs from a
production set-up. Clients are threads of this process, one keep-alive connection each.
Bounded: every request has a 30 s timeout and every run its ``--seconds``.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.processes import free_port, stop, wait_for_http  # noqa: E402

BIN = Path(sys.executable).parent
CONF = ROOT / "deploy" / "gunicorn.conf.py"
PASSWORD = "Bench-pass-0001"  # noqa: S105 - throw-away accounts in a throw-away database
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version"[^>]*value="(\d*)"')
SCENARIOS = ("healthz", "dashboard", "save", "api", "mixed")
TICKS = os.sysconf("SC_CLK_TCK")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an existing PostgreSQL database to empty and use")
    parser.add_argument("--documents", type=int, default=20)
    parser.add_argument("--quarters", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--users", default="1,8,32", help="concurrent users, comma-separated")
    parser.add_argument("--workers", default="1,2", help="gunicorn workers, comma-separated")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    return parser.parse_args()


# -- the instance ------------------------------------------------------------------------------


def database_url(args: argparse.Namespace, folder: Path) -> str:
    if not args.url:
        return f"sqlite:///{folder / 'load.sqlite3'}"
    engine = sa.create_engine(args.url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return args.url


def environment(folder: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "FLASK_"))}
    env.update(
        TRACKER_INSTANCE_PATH=str(folder),
        TRACKER_SECRET_KEY=secrets.token_hex(32),
        TRACKER_DATABASE_URL=url,
        TRACKER_RATELIMIT_ENABLED="false",
        TRACKER_TOTP_REQUIRED_ROLES="admin,security_admin,auditor",
    )
    return env


@dataclass
class Cast:
    """Who the simulated users are: dashboard readers, liaisons with an obligation each, and
    the API clients' token."""

    readers: list[str] = field(default_factory=list)
    savers: list[tuple[str, int]] = field(default_factory=list)  # (username, obligation id)
    token: str = ""
    period: str = ""


def build(args: argparse.Namespace, env: dict[str, str], folder: Path, users: int) -> Cast:
    """Migrate, seed, fill with demo data and make the accounts, in this process."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from tracker import create_app
    from tracker.api.services import create_token
    from tracker.auth.services import create_user, resolve_department
    from tracker.catalogue.models import Department
    from tracker.extensions import db
    from tracker.periods import Period
    from tracker.reports.models import Obligation, Report, ReportState

    app = create_app()
    with app.app_context():
        upgrade()
    runner = app.test_cli_runner()
    started = time.perf_counter()
    for command in (
        ["seed"],
        ["open-periods"],
        ["demo-data", "--documents", str(args.documents), "--quarters", str(args.quarters)],
    ):
        result = runner.invoke(args=command)
        if result.exit_code != 0:
            raise SystemExit(f"flask {' '.join(command)} failed:\n{result.output}")
    print(f"instance built in {time.perf_counter() - started:.0f} s")
    cast = Cast()
    with app.app_context():
        period = db.session.scalar(sa.select(sa.func.max(Obligation.period)))
        cast.period = str(Period.parse(period))
        mca = resolve_department("mca")
        for number in range(users):
            name = f"bench-reader-{number}"
            create_user(name, role="coordinator", password=PASSWORD, department=mca)
            cast.readers.append(name)
        # Editable obligations of the quarter (no report yet, or a draft), department by
        # department in turn, so that the savers spread over every department.
        editable = (
            sa.select(Obligation.id, Obligation.department_id)
            .outerjoin(Report, Report.obligation_id == Obligation.id)
            .where(Obligation.period == period)
            .where(sa.or_(Report.id.is_(None), Report.state == ReportState.DRAFT))
            .order_by(Obligation.department_id, Obligation.id)
        )
        by_department: dict[int, list[int]] = {}
        for obligation_id, department_id in db.session.execute(editable):
            by_department.setdefault(department_id, []).append(obligation_id)
        departments = {d.id: d for d in db.session.scalars(sa.select(Department))}
        rounds = [list(ids) for ids in by_department.values()]
        picked: list[tuple[int, int]] = []
        while len(picked) < users and any(rounds):
            for department_id, ids in zip(by_department, rounds, strict=True):
                if ids and len(picked) < users:
                    picked.append((department_id, ids.pop(0)))
        if len(picked) < users:
            raise SystemExit(f"only {len(picked)} editable obligations in {period}")
        for number, (department_id, obligation_id) in enumerate(picked):
            name = f"bench-liaison-{number}"
            create_user(name, role="liaison", password=PASSWORD,
                        department=departments[department_id])  # fmt: skip
            cast.savers.append((name, obligation_id))
        client = create_user("bench-api", role="coordinator", password=PASSWORD, department=mca)
        db.session.flush()
        _, cast.token = create_token(client, name="负载测试", actor=None)
        db.session.commit()
    return cast


# -- the clients -------------------------------------------------------------------------------


class Refused(Exception):
    """A response that is not what the scenario expects."""


class Client:
    """One keep-alive connection with its cookies; follows no redirects on its own."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None, **headers: str
    ) -> tuple[int, str, dict[str, str]]:
        headers = {k.replace("_", "-"): v for k, v in headers.items()}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection (or recycled its worker):
                # open a new one once, as a browser does.
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return response.status, text, dict(response.getheaders())

    def sign_in(self, username: str) -> None:
        _, page, _ = self.request("GET", "/login")
        fields = {"csrf_token": token(page), "username": username, "password": PASSWORD}
        status, _, headers = self.request("POST", "/login", fields)
        if status != 302 or "/login" in headers.get("Location", "/login"):
            raise SystemExit(f"{username} could not sign in ({status})")


def token(page: str) -> str:
    match = CSRF.search(page)
    if match is None:
        raise Refused("no CSRF token on the page")
    return html.unescape(match[1])


Step = Callable[[Client], None]


def healthz(client: Client) -> None:
    status, _, _ = client.request("GET", "/healthz")
    if status != 200:
        raise Refused(status)


def dashboard(client: Client) -> None:
    status, page, _ = client.request("GET", "/dashboard")
    if status != 200 or "状态矩阵" not in page:
        raise Refused(status)


def saver(obligation_id: int) -> Step:
    path = f"/obligations/{obligation_id}/edit"

    def save(client: Client) -> None:
        status, page, _ = client.request("GET", path)
        version = VERSION.search(page)
        if status != 200 or version is None:
            raise Refused(f"edit page {status}")
        fields = {"csrf_token": token(page), "version": version[1], "status": "in_progress",
                  "progress": f"负载测试保存于 {time.time():.3f}", "save": "保存草稿"}  # fmt: skip
        status, _, _ = client.request("POST", path, fields)
        if status != 302:
            raise Refused(f"save {status}")

    return save


def api(period: str, key: str) -> Step:
    path = f"/api/v1/obligations?period={period}"

    def listing(client: Client) -> None:
        status, body, _ = client.request("GET", path, Authorization=f"Bearer {key}")
        if status != 200 or not isinstance(json.loads(body), dict | list):
            raise Refused(status)

    return listing


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    kinds: dict[str, list[float]] = field(default_factory=dict)


def users_for(scenario: str, count: int, cast: Cast) -> list[tuple[str, str, Step]]:
    """(kind, username or '', step) per simulated user."""
    readers = [("dashboard", cast.readers[n], dashboard) for n in range(count)]
    savers = [("save", name, saver(ob)) for name, ob in cast.savers[:count]]
    clients = [("api", "", api(cast.period, cast.token)) for _ in range(count)]
    if scenario == "healthz":
        return [("healthz", "", healthz) for _ in range(count)]
    if scenario == "dashboard":
        return readers
    if scenario == "save":
        return savers
    if scenario == "api":
        return clients
    mixed = [readers, savers, clients]
    return [mixed[n % 3][n // 3] for n in range(count)]


def drive(port: int, cast: Cast, scenario: str, count: int, seconds: float) -> Outcome:
    outcome = Outcome()
    lock = threading.Lock()
    ready = threading.Barrier(count + 1)
    stop_at = [0.0]

    def user(kind: str, username: str, step: Step) -> None:
        client = Client(port)
        if username:
            client.sign_in(username)
        step(client)  # warm: the first request of a connection, outside the measurement
        ready.wait()
        while time.monotonic() < stop_at[0]:
            started = time.perf_counter()
            try:
                step(client)
                failed = False
            except (Refused, OSError, ValueError):
                failed = True
            elapsed = time.perf_counter() - started
            with lock:
                if failed:
                    outcome.errors += 1
                else:
                    outcome.latencies.append(elapsed)
                    outcome.kinds.setdefault(kind, []).append(elapsed)

    threads = [
        threading.Thread(target=user, args=spec, daemon=True)
        for spec in users_for(scenario, count, cast)
    ]
    for thread in threads:
        thread.start()
    stop_at[0] = time.monotonic() + 3600  # set for real once every user is signed in
    ready.wait()
    stop_at[0] = time.monotonic() + seconds
    for thread in threads:
        thread.join(seconds + 60)
    return outcome


def server_cpu(pgid: int) -> float:
    """CPU seconds (user + system) of every live process in the server's group."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, …
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


def main() -> None:
    args = parse_args()
    users = [int(n) for n in args.users.split(",")]
    workers = [int(n) for n in args.workers.split(",")]
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if "healthz" not in scenarios:
        scenarios.insert(0, "healthz")  # the floor is always measured
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-load-"))
    url = database_url(args, folder)
    env = environment(folder, url)
    cast = build(args, env, folder, max(users))
    backend = sa.engine.make_url(url).get_backend_name()
    print(
        f"{backend}, {args.documents} documents × {args.quarters} quarters, period "
        f"{cast.period}; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start; "
        f"{args.seconds:.0f} s per run"
    )
    print(
        f"{'workers':>7} {'scenario':10} {'users':>5} {'req/s':>7} {'× floor':>8} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'p99 ms':>7} {'errors':>6} {'CPU ms/req':>10}"
    )
    for count_workers in workers:
        port = free_port()
        command = [str(BIN / "gunicorn"), "-c", str(CONF), "--bind", f"127.0.0.1:{port}",
                   "--workers", str(count_workers), "--threads", str(args.threads),
                   "--access-logfile", "/dev/null", "--max-requests", "0",
                   "tracker:create_app()"]  # fmt: skip
        server = subprocess.Popen(
            command, env=env, cwd=folder, stdout=subprocess.DEVNULL,
            stderr=open(folder / f"server-{count_workers}.log", "w"),  # noqa: SIM115
            start_new_session=True,
        )  # fmt: skip
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60, process=server)
            floors: dict[int, float] = {}
            for scenario in scenarios:
                for count in users:
                    cpu_before = server_cpu(server.pid)
                    outcome = drive(port, cast, scenario, count, args.seconds)
                    cpu = server_cpu(server.pid) - cpu_before
                    done = len(outcome.latencies)
                    rate = done / args.seconds
                    if scenario == "healthz":
                        floors[count] = rate
                    ratio = rate / floors[count] if floors.get(count) else float("nan")
                    print(
                        f"{count_workers:>7} {scenario:10} {count:>5} {rate:7.1f} {ratio:8.3f} "
                        f"{percentile(outcome.latencies, 0.5) * 1000:7.0f} "
                        f"{percentile(outcome.latencies, 0.95) * 1000:7.0f} "
                        f"{percentile(outcome.latencies, 0.99) * 1000:7.0f} {outcome.errors:>6} "
                        f"{cpu * 1000 / max(done, 1):10.1f}",
                        flush=True,
                    )
                    if scenario == "mixed":
                        for kind, values in sorted(outcome.kinds.items()):
                            print(
                                f"{'':>7} {'  ' + kind:10} {'':>5} "
                                f"{len(values) / args.seconds:7.1f} {'':>8} "
                                f"{percentile(values, 0.5) * 1000:7.0f} "
                                f"{percentile(values, 0.95) * 1000:7.0f} "
                                f"{percentile(values, 0.99) * 1000:7.0f}"
                            )
        finally:
            stop(server)
    print(f"instance and server logs in {folder}")


if __name__ == "__main__":
    main()
