"""The app recovers by itself when PostgreSQL restarts (a cluster this test starts itself).

A real server process (gunicorn, one gthread worker of 4 threads, as production serves) runs
against the cluster while two clients send requests without pause: one PATCHes a report over the
API, one reads. Halfway the cluster is restarted with a fast shutdown, cutting every connection
the app's pool holds. Requests in flight then may fail; every request started after the cluster
is back must succeed, and every write that was acknowledged is in the database afterwards.

Then the clients pause, the cluster restarts once more while the app is idle, and the clients
resume: with nothing in flight, nothing may fail. This is what ``pool_pre_ping`` is for: under
traffic the first failure makes SQLAlchemy discard the whole pool, but an idle pool's broken
connections would otherwise each fail the first request that takes them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from tests.conftest import REPO, SEED_FILE
from tests.pgcluster import ClusterUnavailable, TempCluster, free_port
from tracker import create_app
from tracker.extensions import db

RUN_BEFORE, RUN_AFTER = 2.0, 3.0  # seconds of traffic before the restart and after it


@dataclass
class Call:
    started: float
    ended: float
    ok: bool
    what: str


@pytest.fixture
def cluster():
    try:
        pg = TempCluster()
    except ClusterUnavailable as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(str(exc))
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.destroy()


def _prepare(url: str) -> tuple[str, int, int]:
    """Schema, seed, one liaison with a token and a draft: (token, report id, version)."""
    from tracker.api.services import create_token
    from tracker.auth.services import create_user, resolve_department
    from tracker.catalogue.seedfile import read_seed_file
    from tracker.catalogue.services import apply_seed
    from tracker.reports import queries, services
    from tracker.reports.models import Obligation

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        apply_seed(read_seed_file(SEED_FILE))
        services.open_period(queries.current_period())
        mps = resolve_department("mps")
        user = create_user("restart-liaison", role="liaison", password="Pw-123456789",
                           department=mps)  # fmt: skip
        _, token = create_token(user, name="restart", actor=user)
        obligation = db.session.scalars(
            sa.select(Obligation).where(Obligation.department_id == mps.id)
        ).first()
        report = services.save_draft(
            obligation, services.ReportInput(progress="开始"), actor=user, expected_version=None
        )
        db.session.commit()
        found = (token, report.id, report.version)
        db.engine.dispose()
    return found


def _request(base: str, token: str, method: str, path: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path, data=data, method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except OSError:
        return None, None


def _serve(url: str, tmp_path):
    port = free_port()
    env = {**os.environ, "TRACKER_DATABASE_URL": url, "TRACKER_SECRET_KEY": "restart-test",
           "TRACKER_INSTANCE_PATH": str(tmp_path / "instance"), "TRACKER_ENV": "production",
           "TRACKER_DB_POOL_SIZE": "4", "TRACKER_DB_MAX_OVERFLOW": "2"}  # fmt: skip
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--worker-class", "gthread", "--threads", "4", "tracker:create_app()"],
        env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return server, base
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError((tmp_path / "server.log").read_text())


class Traffic:
    """A writer (PATCH, resynchronising its version after a failure) and a reader."""

    def __init__(self, base: str, token: str, report_id: int, version: int):
        self.base, self.token, self.report_id, self.version = base, token, report_id, version
        self.calls: list[Call] = []
        self.acknowledged: list[tuple[int, str]] = []  # (version, progress) answered 200
        self.stop = threading.Event()
        self.resume = threading.Event()
        self.resume.set()
        self._idle = [threading.Event(), threading.Event()]  # writer, reader between calls

    def pause(self) -> None:
        """Stop sending and return once neither client has a request in flight."""
        for idle in self._idle:
            idle.clear()
        self.resume.clear()
        for idle in self._idle:
            assert idle.wait(timeout=15)

    def _gate(self, who: int) -> None:
        if not self.resume.is_set():
            self._idle[who].set()
            self.resume.wait()

    def _timed(self, what: str, method: str, path: str, body: dict | None = None):
        started = time.monotonic()
        status, payload = _request(self.base, self.token, method, path, body)
        self.calls.append(Call(started, time.monotonic(), status == 200, what))
        return status, payload

    def write(self) -> None:
        n = 0
        while not self.stop.is_set():
            self._gate(0)
            n += 1
            progress = f"第 {n} 次保存"
            status, payload = self._timed(
                "write", "PATCH", f"/api/v1/reports/{self.report_id}",
                {"version": self.version, "progress": progress},
            )  # fmt: skip
            if status == 200:
                self.version = payload["version"]
                self.acknowledged.append((self.version, progress))
            else:  # lost answer or stale version: read the version again
                self._resync()
            time.sleep(0.02)

    def _resync(self) -> None:
        while not self.stop.is_set():
            status, payload = self._timed("resync", "GET", f"/api/v1/reports/{self.report_id}")
            if status == 200:
                self.version = payload["version"]
                return
            time.sleep(0.05)

    def read(self) -> None:
        while not self.stop.is_set():
            self._gate(1)
            self._timed("read", "GET", "/api/v1/me")
            time.sleep(0.02)


def test_requests_survive_a_postgresql_restart(cluster, tmp_path):
    token, report_id, version = _prepare(cluster.url)
    server, base = _serve(cluster.url, tmp_path)
    traffic = Traffic(base, token, report_id, version)
    threads = [threading.Thread(target=traffic.write), threading.Thread(target=traffic.read)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(RUN_BEFORE)
        down = time.monotonic()
        cluster.restart()
        back = time.monotonic()
        time.sleep(RUN_AFTER)
        traffic.pause()
        idle_restart = len(traffic.calls)
        cluster.restart()
        traffic.resume.set()
        time.sleep(RUN_AFTER)
    finally:
        traffic.stop.set()
        traffic.resume.set()
        for thread in threads:
            thread.join(timeout=15)
        server.terminate()
        server.wait(timeout=10)

    calls, resumed = traffic.calls[:idle_restart], traffic.calls[idle_restart:]
    before = [c for c in calls if c.ended < down]
    after = [c for c in calls if c.started >= back]
    failed = [c for c in calls if not c.ok]
    assert before and all(c.ok for c in before), "requests failed before the restart"
    assert len([c for c in after if c.what == "write"]) >= 5, "too little traffic after it"
    assert [c for c in after if not c.ok] == [], "requests failed after PostgreSQL was back"
    assert all(c.started < back and c.ended >= down for c in failed)  # in flight only
    assert len(resumed) >= 10 and [c for c in resumed if not c.ok] == [], "idle restart"

    engine = sa.create_engine(cluster.url)
    try:
        with engine.connect() as conn:
            saved = {
                (number, content.get("progress"))
                for number, content in conn.execute(
                    sa.text("SELECT number, content FROM report_version WHERE report_id = :id"),
                    {"id": report_id},
                )
            }
    finally:
        engine.dispose()
    assert traffic.acknowledged and set(traffic.acknowledged) <= saved

    lines = [json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines()
             if line.startswith("{")]  # fmt: skip
    access = [line for line in lines if line["logger"] == "tracker.access"]
    assert len(access) >= len(traffic.calls) - len(failed)
    assert all(line["request_id"] and line["time"].endswith("+08:00") for line in access)
