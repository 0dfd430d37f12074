"""The database pool: ``pool_pre_ping`` everywhere, ``TRACKER_DB_POOL_*`` on PostgreSQL."""

from __future__ import annotations

import pytest

from tracker import create_app
from tracker.config import ConfigError

PG_URL = "postgresql+psycopg://tracker@db.example/tracker"


def _app(url: str):
    return create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})


def test_postgresql_gets_the_configured_pool(monkeypatch):
    monkeypatch.setenv("TRACKER_DB_POOL_SIZE", "8")
    monkeypatch.setenv("TRACKER_DB_MAX_OVERFLOW", "0")
    monkeypatch.setenv("TRACKER_DB_POOL_RECYCLE", "600")
    monkeypatch.setenv("TRACKER_DB_POOL_TIMEOUT", "5")
    options = _app(PG_URL).config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options == {"pool_pre_ping": True, "pool_size": 8, "max_overflow": 0,
                       "pool_recycle": 600, "pool_timeout": 5}  # fmt: skip


def test_the_engine_uses_it(monkeypatch):
    monkeypatch.setenv("TRACKER_DB_POOL_SIZE", "3")
    app = _app(PG_URL)
    with app.app_context():
        from tracker.extensions import db

        pool = db.engine.pool  # built without connecting
        assert pool.size() == 3
        db.engine.dispose()


def test_sqlite_keeps_its_own_pool_but_pings(tmp_path):
    options = _app(f"sqlite:///{tmp_path / 'x.sqlite3'}").config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options == {"pool_pre_ping": True}


@pytest.mark.parametrize(
    ("variable", "value"),
    [("TRACKER_DB_POOL_SIZE", "0"), ("TRACKER_DB_MAX_OVERFLOW", "many"),
     ("TRACKER_DB_POOL_TIMEOUT", "0"), ("TRACKER_METRICS_TOKEN", "short")],
)  # fmt: skip
def test_invalid_settings_stop_the_start_naming_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        _app(PG_URL)
