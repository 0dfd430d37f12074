"""``/metrics``: Prometheus text behind a bearer token, summed over processes when asked."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO
from tracker.extensions import db
from tracker.notifications.models import OutboxMessage, OutboxStatus

TOKEN = "metrics-test-token"


@pytest.fixture
def token(app, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_METRICS_TOKEN", TOKEN)
    return TOKEN


def _scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"})


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_do_not_exist_without_a_token(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_refuse_a_missing_or_wrong_token_and_any_session(client, token, make_user, login):
    assert client.get("/metrics").status_code == 401
    assert _scrape(client, "wrong").status_code == 401
    assert _scrape(client, "令牌").status_code == 401  # non-ASCII is refused, not a crash
    login(make_user("admin"))
    response = client.get("/metrics")
    assert response.status_code == 401 and b"tracker_" not in response.data


def test_request_latency_by_endpoint(client, token):
    client.get("/healthz")
    client.get("/healthz")
    samples = _samples(_scrape(client).get_data(as_text=True))
    key = (
        "tracker_request_duration_seconds_count",
        (("endpoint", "health"), ("method", "GET"), ("status", "200")),
    )
    assert samples[key] >= 2


def test_outbox_depth_and_age(client, token, at):
    at("2026-12-01 09:00")
    db.session.add_all(
        [
            OutboxMessage(to_address="a@example.org", subject="s", body="b"),
            OutboxMessage(to_address="b@example.org", subject="s", body="b"),
            OutboxMessage(to_address="c@example.org", subject="s", body="b",
                          status=OutboxStatus.FAILED),
            OutboxMessage(to_address="d@example.org", subject="s", body="b",
                          status=OutboxStatus.SENT),
        ]
    )  # fmt: skip
    db.session.commit()
    at("2026-12-01 09:10")
    samples = _samples(_scrape(client).get_data(as_text=True))
    assert samples[("tracker_outbox_messages", (("status", "pending"),))] == 2
    assert samples[("tracker_outbox_messages", (("status", "failed"),))] == 1
    assert ("tracker_outbox_messages", (("status", "sent"),)) not in samples
    assert samples[("tracker_outbox_oldest_unsent_age_seconds", ())] == 600


def test_reminder_pass_duration_and_counts(client, token, quarter, runner):
    before = _samples(_scrape(client).get_data(as_text=True))
    result = runner.invoke(args=["remind", "--today", "2024-10-11", "--no-mail"])
    assert result.exit_code == 0, result.output
    after = _samples(_scrape(client).get_data(as_text=True))

    def grew(name, labels=()):
        return after.get((name, labels), 0) - before.get((name, labels), 0)

    assert grew("tracker_reminder_pass_duration_seconds_count") == 1
    assert grew("tracker_reminder_passes_total", (("working_day", "true"),)) == 1
    # Nobody to remind in this world (no users): the pass ran and counted zero.
    assert grew("tracker_reminder_notifications_total") == 0


def test_several_processes_are_summed_in_multiprocess_mode(tmp_path):
    """Two processes (a 'scheduler' and a 'web worker') write; a third one scrapes both."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "TRACKER_ENV": "test",
           "TRACKER_METRICS_TOKEN": TOKEN,
           "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}  # fmt: skip
    observe = textwrap.dedent("""
        from tracker import metrics
        with metrics.reminder_pass() as report:
            report(True, 3, 2)
    """)
    for _ in range(2):
        subprocess.run([sys.executable, "-c", observe], env=env, check=True, cwd=REPO)
    scrape = textwrap.dedent(f"""
        from tracker import create_app
        from tracker.extensions import db
        app = create_app({{"TESTING": True, "SECRET_KEY": "x"}})
        with app.app_context():
            db.create_all()
        response = app.test_client().get(
            "/metrics", headers={{"Authorization": "Bearer {TOKEN}"}})
        print(response.status_code)
        print(response.get_data(as_text=True))
    """)
    out = subprocess.run(
        [sys.executable, "-c", scrape], env=env, check=True, cwd=REPO, capture_output=True,
        text=True,
    ).stdout  # fmt: skip
    status, _, text = out.partition("\n")
    assert status == "200"
    samples = _samples(text)
    assert samples[("tracker_reminder_notifications_total", ())] == 6
    assert samples[("tracker_reminder_emails_total", ())] == 4
    assert samples[("tracker_reminder_pass_duration_seconds_count", ())] == 2
