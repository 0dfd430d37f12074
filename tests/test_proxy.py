"""X-Forwarded-* headers count only when they come from a trusted proxy."""

from __future__ import annotations

import pytest
from flask import request

from tracker import create_app
from tracker.config import ConfigError

FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "tracker.example.gov.cn",
}


def _probe_app(monkeypatch, tmp_path, trusted: str | None):
    monkeypatch.setenv("TRACKER_SECRET_KEY", "x")
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    if trusted is None:
        monkeypatch.delenv("TRACKER_TRUSTED_PROXIES", raising=False)
    else:
        monkeypatch.setenv("TRACKER_TRUSTED_PROXIES", trusted)
    app = create_app()

    def probe() -> str:
        return f"{request.scheme} {request.remote_addr} {request.host}"

    probe._tracker_public = True  # type: ignore[attr-defined]
    app.add_url_rule("/probe", view_func=probe)
    return app


def _seen(app, remote_addr: str) -> str:
    client = app.test_client()
    response = client.get("/probe", headers=FORWARDED, environ_base={"REMOTE_ADDR": remote_addr})
    return response.get_data(as_text=True)


def test_headers_from_a_listed_proxy_are_applied(monkeypatch, tmp_path):
    app = _probe_app(monkeypatch, tmp_path, "127.0.0.1, 10.0.0.0/8")
    assert _seen(app, "10.20.30.40") == "https 203.0.113.7 tracker.example.gov.cn"
    assert _seen(app, "127.0.0.1") == "https 203.0.113.7 tracker.example.gov.cn"


def test_headers_from_anyone_else_are_ignored(monkeypatch, tmp_path):
    app = _probe_app(monkeypatch, tmp_path, "10.0.0.0/8")
    assert _seen(app, "192.168.1.5") == "http 192.168.1.5 localhost"


def test_no_proxy_is_trusted_by_default(monkeypatch, tmp_path):
    app = _probe_app(monkeypatch, tmp_path, None)
    assert _seen(app, "127.0.0.1") == "http 127.0.0.1 localhost"


def test_a_bad_entry_is_refused_in_chinese(monkeypatch, tmp_path):
    with pytest.raises(
        ConfigError, match=r"TRACKER_TRUSTED_PROXIES.*不是有效的 IP 地址或网段：10\.0\.0\.300"
    ):
        _probe_app(monkeypatch, tmp_path, "127.0.0.1,10.0.0.300")
