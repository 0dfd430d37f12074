"""Application factory, configuration and error pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tracker import create_app
from tracker.config import ConfigError
from tracker.extensions import db


def test_refuses_to_start_without_a_secret_key_in_production(monkeypatch, tmp_path):
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    monkeypatch.setenv("TRACKER_ENV", "production")
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY"):
        create_app()


def test_secret_key_from_instance_file(monkeypatch, tmp_path):
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    monkeypatch.setenv("TRACKER_ENV", "production")
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    (tmp_path / "secret_key").write_text("kept-in-the-instance-folder")
    assert create_app().config["SECRET_KEY"] == "kept-in-the-instance-folder"


def test_default_database_is_sqlite_in_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    monkeypatch.setenv("TRACKER_SECRET_KEY", "x")
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
    assert app.config["TRACKER_TIMEZONE"] == "Asia/Shanghai"


def test_sqlite_runs_with_foreign_keys_and_wal(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_SECRET_KEY", "x")
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    app = create_app()
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"


def test_not_found_page_speaks_chinese(client, make_user, login):
    login(make_user("admin"))
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_health_is_public(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_postgresql_gets_a_sized_pool_and_every_checkout_is_pinged(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_SECRET_KEY", "x")
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TRACKER_DATABASE_URL", "postgresql+psycopg://tracker@127.0.0.1/tracker")
    monkeypatch.setenv("TRACKER_DB_POOL_SIZE", "7")
    monkeypatch.setenv("TRACKER_DB_MAX_OVERFLOW", "3")
    app = create_app()
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True,
        "pool_size": 7,
        "max_overflow": 3,
        "pool_recycle": 1800,
        "pool_timeout": 30,
    }
    with app.app_context():
        pool = db.engine.pool
        assert pool.size() == 7  # the options reach the engine


def test_sqlite_connections_are_pinged_too(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_SECRET_KEY", "x")
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    assert create_app().config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}


def test_postgresql_connections_run_without_jit(app):
    """Every pooled connection has JIT off, also after a rolled-back transaction."""
    from tests.conftest import db_backend

    if db_backend(app) != "postgresql":
        pytest.skip("a PostgreSQL setting: checked in the suite's PostgreSQL pass")
    db.engine.dispose()  # a new connection, made through the connect hook
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SHOW jit")).scalar() == "off"
        conn.rollback()
        assert conn.execute(sa.text("SHOW jit")).scalar() == "off"
    assert db.session.execute(sa.text("SHOW jit")).scalar() == "off"


def test_the_dashboard_aggregate_runs_without_hash_joins_and_puts_them_back(app, seeded):
    """On PostgreSQL the aggregate probes the report index (docs/performance.md); the setting
    holds inside the block only, and an error inside leaves nothing behind after rollback."""
    from tests.conftest import db_backend
    from tracker.db import without_hash_joins

    if db_backend(app) != "postgresql":
        pytest.skip("a PostgreSQL setting: checked in the suite's PostgreSQL pass")

    def hash_joins() -> str:
        return str(db.session.execute(sa.text("SHOW enable_hashjoin")).scalar())

    with app.app_context():
        assert hash_joins() == "on"
        with without_hash_joins(db.session):
            assert hash_joins() == "off"
        assert hash_joins() == "on"
        with pytest.raises(sa.exc.ProgrammingError), without_hash_joins(db.session):
            db.session.execute(sa.text("SELECT no_such_column FROM department"))
        db.session.rollback()
        assert hash_joins() == "on"
