"""A centre and a province as real processes, for tests that drive them from outside (the
browser test of the cascade): each instance set up by one script run in its own environment
(migrations, seed, accounts — one interpreter start instead of one per CLI command), served by
gunicorn on a loopback port with the helpers of ``test_two_instances``.

The centre runs on an SQLite file; the province on the suite's database (PostgreSQL when
``TRACKER_TEST_DATABASE_URL`` names one). The province is served only once its upstream token
is known: the centre's administrator issues it on a page.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from tests.federation.test_two_instances import PASSWORD, PERIOD, _serve
from tests.processes import REPO, free_port, instance_env, stop

COMMON = {
    "TRACKER_TOTP_REQUIRED_ROLES": "",
    "TRACKER_SIGNOFF_REQUIRED": "false",
    "TRACKER_RATELIMIT_ENABLED": "false",
}

# The centre: the seed document, item 23's plan, its system administrator and a coordinator.
CENTRE_SETUP = """
import sys
from flask_migrate import upgrade
from tracker import create_app, resources
from tracker.auth.services import create_user
from tracker.catalogue.queries import department_by_code
from tracker.catalogue.seedfile import read_seed_file
from tracker.catalogue.services import apply_seed
from tracker.delivery.seed import apply_delivery_seed
from tracker.extensions import db

app = create_app()
with app.app_context():
    upgrade()
    apply_seed(read_seed_file(resources.seed_file()))
    apply_delivery_seed(resources.seed_file())
    create_user("wang", role="admin", password=sys.argv[1])
    create_user("zhang", role="coordinator", password=sys.argv[1],
                department=department_by_code("mca"))
    db.session.commit()
"""

# The province: two departments, its coordinator, its counties and one county account.
PROVINCE_SETUP = """
import sys
from flask_migrate import upgrade
import sqlalchemy as sa
from tracker import create_app
from tracker.auth.services import create_user
from tracker.catalogue.services import DepartmentInput, create_department
from tracker.counties.models import County
from tracker.counties.services import assign_county, import_counties
from tracker.counties.sheets import CountyRow
from tracker.extensions import db

app = create_app()
with app.app_context():
    upgrade()
    mca = create_department("hb-mca", DepartmentInput("河北省民政厅", "省民政厅"))
    create_department("hb-acwf", DepartmentInput("河北省妇女联合会", "省妇联"))
    admin = create_user("hb-admin", role="admin", password=sys.argv[1])
    create_user("li", role="coordinator", password=sys.argv[1], department=mca)
    import_counties([CountyRow("130102", "长安区", "石家庄市"),
                     CountyRow("130202", "路南区", "唐山市")], actor=None)
    db.session.flush()
    county = create_user("chang-an", role="county", password=sys.argv[1])
    assign_county(county, db.session.scalar(sa.select(County).where(County.code == "130102")),
                  actor=admin)
    db.session.commit()
"""


def centre_env(tmp_path: Path) -> dict[str, str]:
    env = {**instance_env(tmp_path, "centre"), **COMMON}
    env["TRACKER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'centre.sqlite3'}"
    return env


def province_env(tmp_path: Path) -> dict[str, str]:
    """河北省's environment; its upstream URL and token are added before it is served."""
    return {
        **instance_env(tmp_path, "cascade_province"), **COMMON,
        "TRACKER_INSTANCE_LEVEL": "provincial", "TRACKER_INSTANCE_CODE": "130000",
        "TRACKER_INSTANCE_NAME": "河北省", "TRACKER_FIRST_PERIOD": PERIOD,
        "TRACKER_COUNTY_DEPARTMENT": "hb-mca", "TRACKER_MAIL_RETRY_SECONDS": "1",
    }  # fmt: skip


def start_script(env: dict[str, str], script: str, *args: str) -> subprocess.Popen[str]:
    """Run a script in an instance's environment, in the background (``finish`` it)."""
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], env=env, cwd=REPO, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def start_setup(env: dict[str, str], script: str) -> subprocess.Popen[str]:
    """A setup script (its accounts get the test password), in the background."""
    return start_script(env, script, PASSWORD)


def finish(process: subprocess.Popen[str], timeout: float = 120) -> str:
    """Wait for a background script; fail the test with its output when it failed."""
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        raise
    assert process.returncode == 0, f"script exited {process.returncode}:\n{out}"
    return out


class Served:
    """An instance served on a free loopback port until ``close``. ``background=True``
    returns at once: ``ready()`` waits for it (meanwhile the test goes on)."""

    def __init__(self, env: dict[str, str], log: Path, *, background: bool = False):
        self.env, self.log, self.port = env, log, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, daemon=True)
        self._thread.start()
        if not background:
            self.ready()

    def _start(self) -> None:
        try:
            self.process = _serve(self.env, self.port, self.log)
        except BaseException as exc:  # reported by ready()
            self._error = exc

    def ready(self, timeout: float = 60) -> Served:
        self._thread.join(timeout)
        if self._error is not None:
            raise AssertionError(f"{self.log.name}: {self._error}\n{self.log.read_text()}")
        assert self.process is not None, f"{self.log.name}: not serving after {timeout} s"
        return self

    def close(self) -> None:
        self._thread.join(60)
        if self.process is not None:
            stop(self.process)
