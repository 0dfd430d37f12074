"""``scripts/run.sh`` with real processes: a port already taken, a restart that needs no
package index, and a scheduler crash the website survives.

Each run gets a temp instance folder, a free port and a database of its own; the virtualenv
is the one running the suite (``TRACKER_VENV``). Everything is bounded in time, and run.sh is
stopped (its whole process group) whatever happens.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import REPO, Session, free_port, instance_env, run, stop, wait_for_http

RUN_SH = REPO / "scripts" / "run.sh"
VENV = Path(sys.executable).parent.parent
DEPS = f". {REPO / 'scripts' / 'deps.sh'}"


def _bash(script: str, *, env: dict[str, str] | None = None, cwd: Path = REPO) -> str:
    return run(["bash", "-c", f"set -euo pipefail; {script}"], env=env, cwd=cwd).stdout


def _run_sh_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = instance_env(tmp_path, "runsh")
    del env["TRACKER_SECRET_KEY"]  # run.sh makes the instance's secret_key file itself
    env.update(
        {
            "TRACKER_PORT": str(port),
            "TRACKER_VENV": str(VENV),
            "TRACKER_SCHEDULER_RESTART_SECONDS": "1",
            "TRACKER_WEB_WORKERS": "2",
            # A restart must not need a package index: any pip call would fail.
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": "",
        }
    )
    return env


def test_a_taken_port_is_refused_at_once_with_a_chinese_message(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            ["bash", str(RUN_SH)],
            env=_run_sh_env(tmp_path, port),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 1
    assert f"无法启动：端口 {port}（127.0.0.1）已被占用" in done.stderr
    assert "TRACKER_PORT=5001 scripts/run.sh" in done.stderr
    assert time.monotonic() - started < 10, "the check comes before any installing or migrating"
    assert not (tmp_path / "runsh-instance" / "run").exists()


def test_the_dependency_hash_ignores_settings_and_sees_requirements(tmp_path):
    for name in ("setup.cfg", "pyproject.toml", "setup.py"):
        (tmp_path / name).write_bytes((REPO / name).read_bytes())
    env = {**os.environ, "VENV": str(VENV)}
    original = _bash(f"{DEPS}; deps_hash", env=env, cwd=tmp_path).strip()
    cfg = tmp_path / "setup.cfg"
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace("warn_unused_configs = True", "warn_unused_configs = False"))
    assert _bash(f"{DEPS}; deps_hash", env=env, cwd=tmp_path).strip() == original
    cfg.write_text(text.replace("    PyYAML>=6.0\n", "    PyYAML>=6.0.1\n"))
    assert _bash(f"{DEPS}; deps_hash", env=env, cwd=tmp_path).strip() != original


def test_unchanged_requirements_install_nothing(tmp_path):
    env = {**os.environ, "VENV": str(VENV)}
    _bash(f"{DEPS}; ensure_deps runtime .", env=env)  # installs once if the stamp is stale
    started = time.monotonic()
    out = subprocess.run(
        ["bash", "-c", f"{DEPS}; ensure_deps runtime ."],
        env={**env, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": ""},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0 and out.stderr == "" and out.stdout == ""
    assert time.monotonic() - started < 5


@pytest.fixture
def running(tmp_path):
    """run.sh serving on a free port, until the test ends: (base URL, run dir, log file)."""
    _bash(f"{DEPS}; ensure_deps runtime .", env={**os.environ, "VENV": str(VENV)})
    port = free_port()
    log = tmp_path / "run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bash", str(RUN_SH)],
            env=_run_sh_env(tmp_path, port),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + "/healthz", timeout=90, process=process)
        yield process, base, tmp_path / "runsh-instance" / "run", log
    finally:
        stop(process)


def _scheduler_pid(run_dir: Path, *, other_than: int | None, timeout: float) -> int:
    """The pid run.sh recorded for the scheduler, once it is alive and not ``other_than``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid = int((run_dir / "scheduler.pid").read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ValueError, ProcessLookupError):
            pid, cmdline = 0, b""
        if pid and pid != other_than and b"scheduler" in cmdline:
            return pid
        time.sleep(0.2)
    raise AssertionError(f"no new scheduler process within {timeout} s")


def test_the_website_survives_a_scheduler_crash_and_the_scheduler_comes_back(running):
    """Kill the scheduler: the site answers, run.sh starts a new one; SIGTERM stops all."""
    process, base, run_dir, log = running
    first = _scheduler_pid(run_dir, other_than=None, timeout=30)
    os.kill(first, signal.SIGKILL)
    for _ in range(5):  # the site answers while the scheduler is down
        assert Session(base).get("/login")[0] == 200
        time.sleep(0.1)
    second = _scheduler_pid(run_dir, other_than=first, timeout=30)
    assert second != first
    assert Session(base).get("/login")[0] == 200
    assert process.poll() is None, "run.sh must keep running"
    assert "调度进程已退出（状态 137），1 秒后重新启动；网站继续运行。" in log.read_text()

    # Stopping run.sh stops both: the website and the scheduler it restarted.
    web = int((run_dir / "web.pid").read_text())
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 143
    for pid in (second, web):
        deadline = time.monotonic() + 15
        while _state(pid) != b"Z" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _state(pid) == b"Z", f"process {pid} still runs after run.sh stopped"


def _state(pid: int) -> bytes:
    """The process's state letter; ``Z`` (exited) once it is gone or a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().split(b") ")[1][:1]
    except FileNotFoundError:
        return b"Z"
