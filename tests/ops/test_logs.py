"""Structured logs: a request id on every response and line, one zone, one access line."""

from __future__ import annotations

import io
import json
import logging
from zoneinfo import ZoneInfo

from tracker import logs
from tracker.extensions import db


def test_request_id_is_honoured_when_plain_and_replaced_otherwise(client):
    given = client.get("/healthz", headers={"X-Request-ID": "proxy-42.a_b"})
    assert given.headers["X-Request-ID"] == "proxy-42.a_b"
    made = client.get("/healthz")
    assert len(made.headers["X-Request-ID"]) == 32
    assert made.headers["X-Request-ID"] != client.get("/healthz").headers["X-Request-ID"]
    hostile = client.get("/healthz", headers={"X-Request-ID": 'x" {"level":"ERROR"}'})
    assert hostile.headers["X-Request-ID"] != 'x" {"level":"ERROR"}'
    assert len(hostile.headers["X-Request-ID"]) == 32


def test_every_request_writes_one_access_line(client, caplog):
    caplog.set_level(logging.INFO, logger=logs.ACCESS_LOGGER)
    caplog.clear()
    response = client.get("/dashboard", headers={"X-Request-ID": "abc123"})
    records = [r for r in caplog.records if r.name == logs.ACCESS_LOGGER]
    assert len(records) == 1
    record = records[0]
    assert (record.method, record.path, record.status) == ("GET", "/dashboard", 302)
    assert record.duration_ms >= 0 and response.headers["X-Request-ID"] == "abc123"
    line = json.loads(logs.JsonFormatter(ZoneInfo("Asia/Shanghai")).format(record))
    assert line["request_id"] == "abc123"
    assert line["status"] == 302 and line["path"] == "/dashboard"


def test_json_lines_carry_one_zone_and_the_request_id(app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter(ZoneInfo("Asia/Shanghai")))
    logger = logging.getLogger("tracker.test-logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("outside a request")
        with app.test_request_context(headers={"X-Request-ID": "req-7"}):
            logs._start_request()
            logger.warning("inside %s", "a request")
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["outside a request", "inside a request",
                                                   "failed"]  # fmt: skip
    assert all(line["time"].endswith("+08:00") for line in lines)
    assert [line["request_id"] for line in lines] == [None, "req-7", "req-7"]
    assert "ValueError: boom" in lines[2]["exception"]


def test_the_access_line_names_the_signed_in_user_and_the_token_owner(
    client, caplog, make_user, login
):
    from tracker.api.services import create_token

    user = make_user("admin")
    login(user)
    _, token = create_token(user, name="logs", actor=user)
    db.session.commit()
    caplog.set_level(logging.INFO, logger=logs.ACCESS_LOGGER)
    caplog.clear()  # the sign-in's own lines, if another test left the root logger at INFO
    client.get("/dashboard")
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    client.post("/logout")
    client.get("/dashboard")
    lines = [r for r in caplog.records if r.name == logs.ACCESS_LOGGER]
    assert [(r.path, r.user_id) for r in lines] == [
        ("/dashboard", user.id), ("/api/v1/me", user.id), ("/logout", user.id),
        ("/dashboard", None),
    ]  # fmt: skip
