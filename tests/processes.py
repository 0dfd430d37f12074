"""Helpers for tests that run the product as real processes: a fresh instance, a free port,
a database of its own, and a small HTTP client that signs in like a browser does.

Used by the packaging, ``scripts/run.sh`` and README tests. Each fresh instance gets its own
database: an SQLite file in the test's tmp dir, or, when the suite runs on PostgreSQL
(``TRACKER_TEST_DATABASE_URL``), a database ``<name>_<purpose>[_<worker>]`` created on first
use and emptied before each use.
"""

from __future__ import annotations

import html
import http.cookiejar
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import _create_database_once

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_database_url(tmp_path: Path, purpose: str) -> str:
    """An empty database for one fresh instance: SQLite, or PostgreSQL like the suite."""
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if not url or sa.engine.make_url(url).get_backend_name() != "postgresql":
        return f"sqlite:///{tmp_path / f'{purpose}.sqlite3'}"
    base = sa.engine.make_url(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = "_".join(part for part in (base.database, purpose, worker) if part)
    _create_database_once(base, name)
    own = base.set(database=name)
    engine = sa.create_engine(own)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return own.render_as_string(hide_password=False)


def instance_env(tmp_path: Path, purpose: str) -> dict[str, str]:
    """The environment of a fresh instance: its folder, secret key and database."""
    instance = tmp_path / f"{purpose}-instance"
    instance.mkdir(parents=True, exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TRACKER_", "FLASK_", "PYTEST_"))
    }
    env.update(
        {
            "TRACKER_INSTANCE_PATH": str(instance),
            "TRACKER_SECRET_KEY": secrets.token_hex(32),
            "TRACKER_DATABASE_URL": fresh_database_url(tmp_path, purpose),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def run(
    args: list[str], *, env: dict[str, str], cwd: Path, input: str | None = None, timeout=120
) -> subprocess.CompletedProcess[str]:
    """Run a command to its end; fail the test with its output when it fails."""
    done = subprocess.run(
        args, env=env, cwd=cwd, input=input, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def wait_for_http(url: str, *, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers (any status), the process dies, or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


class Session:
    """A cookie-keeping HTTP client that carries the page's CSRF token into its forms."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.last_page = ""

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base_url + path))

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        match = CSRF_FIELD.search(self.last_page)
        assert match, "the last page carried no CSRF token"
        body = urllib.parse.urlencode({"csrf_token": html.unescape(match[1]), **fields})
        return self._open(urllib.request.Request(self.base_url + path, data=body.encode()))

    def sign_in(self, username: str, password: str) -> tuple[int, str]:
        self.get("/login")
        return self.post("/login", {"username": username, "password": password})

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                status, text = response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode("utf-8", "replace")
        self.last_page = text
        return status, text


def stop(process: subprocess.Popen, *, timeout: float = 15) -> None:
    """Terminate a process we started (its whole process group), then kill it if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, 15)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait(timeout=timeout)
