"""``/healthz`` (alive, no database) and ``/readyz`` (every check, 503 when one fails)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from tracker import clock, create_app
from tracker.extensions import db
from tracker.lease import Lease
from tracker.notifications.models import OutboxMessage, OutboxStatus


@pytest.fixture
def statements(app):
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", listen)


@pytest.fixture
def at_head(app):
    """The suite builds its schema from the models: stamp it with the head revision."""
    heads = ScriptDirectory(app.extensions["migrate"].directory).get_heads()
    table = sa.Table(
        "alembic_version", sa.MetaData(), sa.Column("version_num", sa.String(32), primary_key=True)
    )
    with db.engine.begin() as conn:
        table.create(conn)
        conn.execute(table.insert(), [{"version_num": head} for head in heads])
    yield table
    with db.engine.begin() as conn:
        table.drop(conn)


@pytest.fixture
def scheduler_running(app):
    lease = Lease("test-scheduler", seconds=90)
    assert lease.acquire()
    return lease


def test_healthz_is_public_and_touches_no_database(client, statements):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert statements == []


def test_healthz_reads_nothing_for_a_signed_in_browser_either(client, statements, make_user, login):
    login(make_user("admin"))
    statements.clear()
    assert client.get("/healthz").status_code == 200
    assert statements == []


def test_ready_when_every_check_passes(client, at_head, scheduler_running):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "scheduler", "outbox"}
    assert all(check["ok"] for check in body["checks"].values())
    assert response.headers["Cache-Control"] == "no-store"


def test_not_ready_without_migrations(client, scheduler_running):
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["migrations"] == {"ok": False, "detail": "数据库尚未迁移（flask db upgrade）"}
    assert checks["database"] == {"ok": True}


def test_not_ready_behind_the_head_revision(client, at_head, scheduler_running):
    with db.engine.begin() as conn:
        conn.execute(at_head.update().values(version_num="0001"))
    checks = client.get("/readyz").get_json()["checks"]
    assert checks["migrations"]["detail"] == "数据库结构不是最新版本（flask db upgrade）"


def test_not_ready_without_a_fresh_scheduler_lease(client, at_head, at):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["scheduler"]["detail"] == "调度进程未运行（无租约）"
    at("2026-12-01 09:00")
    Lease("stopped-scheduler", seconds=90).acquire()
    at("2026-12-01 09:05")  # five minutes without a heartbeat: the lease ran out
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["scheduler"]["detail"].startswith("调度租约已过期")


def test_not_ready_when_mail_is_stuck(app, client, at_head, scheduler_running, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_SMTP_HOST", "127.0.0.1")
    due = clock.utcnow() - timedelta(seconds=app.config["TRACKER_OUTBOX_STUCK_SECONDS"] - 60)
    db.session.add(OutboxMessage(to_address="a@example.org", subject="s", body="b",
                                 next_attempt_at=due))  # fmt: skip
    db.session.commit()
    assert client.get("/readyz").status_code == 200  # late, but not stuck yet
    stuck = clock.utcnow() - timedelta(seconds=app.config["TRACKER_OUTBOX_STUCK_SECONDS"] + 60)
    db.session.add(OutboxMessage(to_address="b@example.org", subject="s", body="b",
                                 next_attempt_at=stuck, status=OutboxStatus.PENDING))  # fmt: skip
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["outbox"] == {"ok": False, "detail": "1 封邮件逾期未发送"}


def test_an_unreachable_database_is_not_ready_and_says_nothing_more(tmp_path):
    url = f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["database"] == {"ok": False, "detail": "数据库无法连接"}
    assert all(not check["ok"] for check in body["checks"].values())
    text = response.get_data(as_text=True)
    assert "no-such-dir" not in text and "sqlite" not in text.lower()
