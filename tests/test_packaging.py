"""The built wheel is the whole product: installed without the source tree, it migrates, seeds
and serves signed-in pages, templates and static files included.

Offline and fast: the wheel is built from a copy of the sources without build isolation
(setuptools comes with the test extra), and installed ``--no-deps --no-index`` into a fresh
virtualenv whose dependencies are those of the running one, made visible through a ``.pth``
line. Only ``tracker`` comes from the wheel, which the test checks; every command runs from an
empty directory, so nothing can be read from the checkout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pyotp
import pytest

from tests.processes import REPO, Session, free_port, instance_env, run, stop, wait_for_http

SOURCES = ("setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "README.md")
SOURCE_DIRS = ("tracker", "templates", "migrations")
PASSWORD = "Wheel-house-2026"


def _copy_sources(target: Path) -> Path:
    """The files a build reads, copied, so parallel runs never share ``build/``."""
    target.mkdir()
    for name in (*SOURCES, "tasks_seed.yaml"):
        shutil.copy2(REPO / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCE_DIRS:
        shutil.copytree(REPO / name, target / name, ignore=ignore)
    return target


def _build_wheel(tmp: Path) -> Path:
    source = _copy_sources(tmp / "src")
    wheels = tmp / "wheels"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "--wheel-dir",
            str(wheels),
            str(source),
        ],
        env=None,
        cwd=tmp,
    )
    (wheel,) = wheels.glob("tracker-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    """A new virtualenv holding the wheel; its dependencies come from the running venv."""
    target = tmp / "venv"
    venv.create(target, with_pip=False)
    python = target / "bin" / "python"
    purelib = subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True,
    ).strip()
    (Path(purelib) / "tracker_test_deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        env=None,
        cwd=tmp,
    )
    return python


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of the fresh venv, an empty working directory) with the wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    python = _fresh_venv(tmp, _build_wheel(tmp))
    workdir = tmp / "elsewhere"
    workdir.mkdir()
    return python, workdir


def test_wheel_carries_templates_migrations_seed_and_static(installed, tmp_path):
    python, workdir = installed
    probe = (
        "import tracker, tracker.resources as r; from pathlib import Path; "
        "print(Path(tracker.__file__).parent); print(r.installed_from_wheel()); "
        "print(r.templates_dir()/'base.html'); print(r.migrations_dir()/'env.py'); "
        "print(r.seed_file()); print(Path(tracker.__file__).parent/'static'/'css'/'app.css')"
    )
    lines = run([str(python), "-c", probe], env=None, cwd=workdir).stdout.split()
    package, from_wheel, *files = lines
    assert package.startswith(str(python.parent.parent)), "tracker must come from the wheel"
    assert from_wheel == "True"
    for path in files:
        assert path.startswith(package) and Path(path).is_file(), path


def test_installed_wheel_migrates_seeds_and_serves_a_signed_in_page(installed, tmp_path):
    python, workdir = installed
    env = instance_env(tmp_path, "wheel")
    flask = [str(python), "-m", "flask", "--app", "tracker"]
    run([*flask, "db", "upgrade"], env=env, cwd=workdir)
    assert "department 13" in run([*flask, "seed"], env=env, cwd=workdir).stdout
    run(
        [
            *flask,
            "user",
            "create",
            "lisi",
            "--role",
            "coordinator",
            "--department",
            "民政部",
            "--password-stdin",
        ],
        env=env,
        cwd=workdir,
        input=PASSWORD + "\n",
    )
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(python),
            "-m",
            "gunicorn",
            "--config",  # production's settings file, as the systemd unit passes it
            str(REPO / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "tracker:create_app()",
        ],
        env=env,
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + "/healthz", timeout=30, process=server)
        session = Session(base)
        status, page = session.sign_in("lisi", PASSWORD)
        assert status == 200 and "退出" in page, page[:500]
        # The deployed default requires a coordinator's second factor: every page leads to
        # the enrolment page until one is confirmed with a real code.
        status, page = session.get("/dashboard")
        assert status == 200 and 'id="must-enrol"' in page, page[:500]
        secret = re.search(r'data-secret="([A-Z2-7]+)"', page)
        assert secret, page[:500]
        status, page = session.post("/account/second-factor", {"code": pyotp.TOTP(secret[1]).now()})
        assert status == 200 and 'id="recovery-codes"' in page, page[:500]
        status, page = session.get("/dashboard")
        assert status == 200 and "督办看板" in page and "民发〔2019〕86号" in page
        status, css = session.get("/static/css/app.css")
        assert status == 200 and css.strip()
    finally:
        stop(server)
        log.close()
