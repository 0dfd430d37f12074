"""``flask prepare``: an empty database is migrated, seeded, its periods opened and a first
administrator created, in one process; run again, it changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from tests.test_migrations import empty_database_url  # noqa: F401  (a fixture)
from tracker import create_app
from tracker.extensions import db


def _counts() -> dict[str, int]:
    tables = ("department", "task", "obligation", "user", "audit_event")
    return {
        t: db.session.scalar(sa.select(sa.func.count()).select_from(db.metadata.tables[t]))
        for t in tables
    }


def test_prepare_starts_an_empty_database_and_is_idempotent(empty_database_url):  # noqa: F811
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    runner = app.test_cli_runner()
    with app.app_context():  # on top of the suite's own app context, which it would use
        first = runner.invoke(args=["prepare", "--admin", "chief"])
    assert first.exit_code == 0, first.output
    assert "新建填报任务" in first.output and "一次性密码" in first.output
    with app.app_context():
        counts = _counts()
        assert counts["department"] == 13 and counts["task"] == 23
        assert counts["obligation"] > 0 and counts["user"] == 3  # the three administrators
        names = set(db.session.scalars(sa.text('SELECT username FROM "user"')))
        assert names == {"chief", "secadmin", "auditor"}
        db.session.remove()
    with app.app_context():
        again = runner.invoke(args=["prepare", "--admin", "chief"])
    assert again.exit_code == 0, again.output
    assert "数据库已是最新" in again.output and "已有管理员账号，未新建" in again.output
    assert "新建填报任务 0 项" in again.output
    with app.app_context():
        assert _counts() == counts
        db.session.remove()
        db.engine.dispose()
