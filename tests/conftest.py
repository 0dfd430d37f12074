"""Shared fixtures: the app on SQLite or PostgreSQL, a CSRF-aware client, factories.

The suite runs on an SQLite file by default and against ``TRACKER_TEST_DATABASE_URL`` when it
is set (``.ci/run`` does both). Each pytest-xdist worker has a database of its own (see
:func:`database_url_for_tests`). The schema is created once per session; after each test every
table is emptied, so tests see a clean database without paying for DDL each time.
"""

from __future__ import annotations

import copy
import functools
import itertools
import os
import secrets
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from tracker import clock, create_app
from tracker.catalogue.models import Department, PolicyDocument, Task
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports.models import Obligation

REPO = Path(__file__).resolve().parent.parent
SEED_FILE = REPO / "tasks_seed.yaml"
PASSWORD = "Correct-horse-battery"
SEED_DOCUMENT = "民发〔2019〕86号"


def database_url_for_tests(tmp_root: Path) -> str:
    """This process's test database: its own, whether or not pytest-xdist runs workers.

    SQLite is a file under the session's tmp dir, which is per worker already. A PostgreSQL
    ``TRACKER_TEST_DATABASE_URL`` is used as given by a single process; each xdist worker
    derives ``<name>_<worker>`` from it (``test_gw0``, ...), created on first use and reused.
    """
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_root / 'test.sqlite3'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = sa.engine.make_url(url)
    if not worker or base.get_backend_name() != "postgresql":
        return url
    own = base.set(database=f"{base.database}_{worker}")
    _create_database_once(base, own.database)
    return own.render_as_string(hide_password=False)


def _create_database_once(maintenance: sa.engine.URL, name: str) -> None:
    """``CREATE DATABASE name`` unless it exists, through a connection to the given database."""
    engine = sa.create_engine(maintenance, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                try:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                except sa.exc.ProgrammingError as exc:  # another run created it meanwhile
                    if "already exists" not in str(exc):
                        raise
    finally:
        engine.dispose()


def db_backend(app) -> str:
    """``sqlite`` or ``postgresql``: the backend the session's app runs on."""
    return sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tracker")


class CsrfClient(FlaskClient):
    """A test client that signs a CSRF token into its session and adds it to every POST.

    Pass ``csrf=False`` to send a form without the token (to test that it is refused).
    """

    def open(self, *args, **kwargs):
        csrf = kwargs.pop("csrf", True)
        method = kwargs.get("method", "GET").upper()
        data = kwargs.get("data")
        if (
            csrf
            and method in {"POST", "PUT", "PATCH", "DELETE"}
            and (data is None or isinstance(data, dict))
        ):
            data = dict(data or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        # A fresh app context per request, as in production: its own ``g`` (Flask-Login's
        # cached user) and its own database session, whatever context the test holds.
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        app = self.application
        with self.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = secrets.token_hex(20)
                session["csrf_token"] = raw
        serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token")
        return serializer.dumps(raw)


@pytest.fixture(scope="session")
def app(tmp_root):
    """One app for the session; each test gets a clean database (see ``clean_db``)."""
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url_for_tests(tmp_root),
            "TRACKER_UPLOAD_DIR": str(tmp_root / "uploads"),
            "TRACKER_EXPORT_DIR": str(tmp_root / "exports"),
            "TRACKER_EVIDENCE_KEY_FILE": str(tmp_root / "evidence_keys"),
            "SERVER_NAME": None,
            # Hashing a password with production's scrypt takes ~0.1 s; the suite creates
            # and signs in thousands of users. tests/auth/test_passwords.py checks the default.
            "TRACKER_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            # Many tests move the frozen clock by days or quarters while signed in; sessions
            # and passwords would time out under them. The tests of time-outs and expiry
            # (tests/auth/test_sessions.py, test_password_rules.py) set the deployed
            # defaults themselves (``deployed_limits``), and test_config checks those defaults.
            "TRACKER_SESSION_IDLE_MINUTES": 60 * 24 * 365 * 50,
            "TRACKER_SESSION_MAX_HOURS": 24 * 365 * 50,
            "TRACKER_PASSWORD_MAX_AGE_DAYS": 0,
            # Tests sign in as administrators and coordinators everywhere; a second factor is
            # required of nobody here. tests/auth/test_second_factor.py checks the default.
            "TRACKER_TOTP_REQUIRED_ROLES": "",
            # Most tests submit as the liaison directly; the sign-off tests switch the deployed
            # default back on (tests/reports/test_signoff.py checks the default).
            "TRACKER_SIGNOFF_REQUIRED": False,
            # The suite sends thousands of requests from one address; tests/test_rate_limits.py
            # sets low limits itself and checks the deployed defaults.
            "TRACKER_RATELIMIT_LOGIN_PER_ADDRESS": "100000 per minute",
            "TRACKER_RATELIMIT_API_PER_ADDRESS": "100000 per minute",
            "TRACKER_RATELIMIT_API_PER_USER": "100000 per minute",
        }
    )
    application.test_client_class = CsrfClient
    with application.app_context():
        _reset_schema()
    return application


def _reset_schema() -> None:
    """Drop whatever the test database holds and create the models' tables."""
    engine = db.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        else:
            meta = sa.MetaData()
            meta.reflect(conn)
            meta.drop_all(conn)
    db.metadata.create_all(engine)


@pytest.fixture
def deployed_limits(app, monkeypatch):
    """The session time-outs and password expiry a deployment has by default (30 minutes idle,
    12 hours at most, passwords for 90 days), instead of the suite's lenient ones."""
    from tracker.config import Settings

    defaults = Settings.model_fields
    for name in ("session_idle_minutes", "session_max_hours", "password_max_age_days"):
        monkeypatch.setitem(app.config, f"TRACKER_{name.upper()}", defaults[name].default)


@pytest.fixture(autouse=True)
def app_context(app):
    """Each test runs inside an app context and leaves every table empty behind it."""
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        _empty_tables()


def _empty_tables() -> None:
    tables = reversed(db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # One round trip for every table: psycopg sends parameterless statements together.
            deletes = (str(table.delete().compile(dialect=conn.dialect)) for table in tables)
            conn.exec_driver_sql("; ".join(deletes))
        else:
            for table in tables:
                conn.execute(table.delete())


def pytest_collection_modifyitems(items) -> None:
    """Keep every browser test on one xdist worker (``--dist loadgroup``): one Chromium per
    run rather than one per worker, which two cores cannot feed beside the other workers."""
    for item in items:
        if "browser" in item.fixturenames or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture
def client(app) -> CsrfClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seeded(app):
    """The seed catalogue: 13 departments, 23 tasks of 民发〔2019〕86号.

    Applying the seed costs hundreds of statements and parsing the file a tenth of a second,
    in most of the suite's tests. So the file is parsed once per session, and the first test
    that seeds an empty database keeps the rows ``apply_seed`` wrote; every later test that
    seeds an empty database gets exactly those rows back by bulk inserts, its timestamps (the
    audit events') set to the test's now as ``apply_seed`` would have. A database that already
    holds rows is seeded by ``apply_seed`` itself.
    """
    from tracker.catalogue.services import apply_seed

    global _seed_rows
    empty = _database_is_empty()
    if empty and _seed_rows is not None:
        _insert_rows(_seed_rows)
    else:
        apply_seed(_seed_catalogue())
        db.session.commit()
        if empty:
            _seed_rows = _read_rows()
    return _seed_catalogue()


_seed_rows: list[tuple[sa.Table, list[dict]]] | None = None


@functools.cache
def _parsed_seed_file():
    from tracker.catalogue.seedfile import read_seed_file

    return read_seed_file(SEED_FILE)


def _seed_catalogue():
    """A fresh copy of the parsed seed file, which the caller may change."""
    return copy.deepcopy(_parsed_seed_file())


def _database_is_empty() -> bool:
    """No table holds a row (one round trip)."""
    tables = db.metadata.sorted_tables
    any_row = sa.or_(*(sa.select(sa.literal(1)).select_from(t).exists() for t in tables))
    return not db.session.scalar(sa.select(any_row))


def _read_rows() -> list[tuple[sa.Table, list[dict]]]:
    """Every row of every non-empty table, in dependency order."""
    rows = []
    for table in db.metadata.sorted_tables:
        found = [dict(row) for row in db.session.execute(sa.select(table)).mappings()]
        if found:
            rows.append((table, found))
    return rows


def _insert_rows(rows: list[tuple[sa.Table, list[dict]]]) -> None:
    """Insert rows kept by :func:`_read_rows`, every timestamp that is set moved to now.

    The ids are those of the first seeding; sequences have moved past them since (emptying
    the tables deletes rows and never resets a sequence), so new rows never collide.
    The audit events are chained afresh over their new times (the chain's head is not copied).
    """
    from tracker.audit import chain
    from tracker.db import UTCDateTime, utcnow

    now = utcnow()
    unchained = {"chain_seq": None, "prev_hash": None, "row_hash": None}
    for table, found in rows:
        if table.name == "audit_chain":
            continue
        stamped = [c.name for c in table.columns if isinstance(c.type, UTCDateTime)]
        values = [
            {**row, **{name: now for name in stamped if row[name] is not None}} for row in found
        ]
        if table.name == "audit_event":
            values = [{**row, **unchained} for row in values]
            db.session.execute(table.insert(), values)
            chain.seal(db.session, [row["id"] for row in values])
            continue
        db.session.execute(table.insert(), values)
    db.session.commit()


_usernames = itertools.count(1)


@pytest.fixture
def make_user():
    """Factory: ``make_user("liaison", "mohrss")`` → a committed, active user."""
    from tracker.auth.services import create_user, resolve_department

    def factory(role: str = "liaison", department: str | None = None, **kwargs):
        username = kwargs.pop("username", None) or f"{role}{next(_usernames)}"
        dept = resolve_department(department) if department else None
        user = create_user(username, role=role, password=PASSWORD, department=dept, **kwargs)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def login(client):
    """``login(user)`` signs the test client in as that user."""

    def do_login(user, password: str = PASSWORD):
        client.post("/logout")  # switching users: end any earlier session first
        response = client.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return do_login


# -- a controlled clock and a reporting quarter ------------------------------------------------

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing(text: str) -> datetime:
    """``beijing("2024-10-10 23:59:59")`` → an aware datetime in Beijing time."""
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


class Quarter:
    """2024Q3 (due Thu 2024-10-10; supporting input due Tue 2024-10-08), clock movable."""

    period = Period(2024, 3)

    def __init__(self):
        self._stack = []

    def at(self, text: str) -> None:
        """Move the clock to a Beijing time."""
        self.release()
        frozen = clock.frozen(beijing(text))
        frozen.__enter__()
        self._stack.append(frozen)

    def release(self) -> None:
        while self._stack:
            self._stack.pop().__exit__(None, None, None)

    def obligation(self, number: int, code: str, document: str = SEED_DOCUMENT) -> Obligation:
        """Item ``number``'s obligation of department ``code`` (of the seed document: other
        documents a test adds number their items from 1 too)."""
        return db.session.scalar(
            sa.select(Obligation)
            .join(Task, Obligation.task_id == Task.id)
            .join(PolicyDocument, Task.document_id == PolicyDocument.id)
            .join(Department, Obligation.department_id == Department.id)
            .where(
                Task.number == number,
                Department.code == code,
                Obligation.period == self.period.key,
                PolicyDocument.number == document,
            )
        )


@pytest.fixture
def quarter(app, seeded, monkeypatch):
    from tracker.reports import services

    monkeypatch.setitem(app.config, "TRACKER_FIRST_PERIOD", "2024Q3")
    q = Quarter()
    q.at("2024-10-05 10:00")
    services.open_period(q.period)
    db.session.commit()
    yield q
    q.release()


@pytest.fixture
def at():
    """``at("2024-10-11 09:00")`` freezes the clock (Beijing time) until the test ends."""
    stack = []

    def move(text: str):
        while stack:
            stack.pop().__exit__(None, None, None)
        frozen = clock.frozen(beijing(text))
        frozen.__enter__()
        stack.append(frozen)

    yield move
    while stack:
        stack.pop().__exit__(None, None, None)


class QueryCounter:
    """Counts the SQL statements sent to the database while it listens."""

    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        # Planner settings for one query (tracker.db.without_hash_joins) are not queries.
        if not statement.startswith("SET LOCAL "):
            self.statements.append(statement)


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counter: …`` then ``counter.count`` statements were run."""

    @contextmanager
    def counting():
        counter = QueryCounter()
        engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)

    return counting
