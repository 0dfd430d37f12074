"""Prometheus metrics (prometheus-client): what is counted, and the scrape's registry.

Web workers and the scheduler are separate processes. With ``PROMETHEUS_MULTIPROC_DIR`` set
(to an empty directory, the same for every process, cleared before the services start),
prometheus-client keeps each process's values in files there and :func:`scrape` sums them,
so one scrape of any web worker sees every worker's requests and the scheduler's reminder
passes. Without it each process counts alone (a single process is then the whole truth).

The database's figures (outbox depth and age) are read when scraped, not counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_SECONDS = Histogram(
    "tracker_request_duration_seconds",
    "Time to answer a request, by endpoint, method and status.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REMINDER_PASS_SECONDS = Histogram(
    "tracker_reminder_pass_duration_seconds",
    "Time one reminder pass took.",
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0),
)
REMINDER_PASSES = Counter(
    "tracker_reminder_passes", "Reminder passes run, by whether the day was a working day.",
    ["working_day"],
)  # fmt: skip
REMINDER_NOTIFICATIONS = Counter(
    "tracker_reminder_notifications", "Reminder notifications written by reminder passes."
)
REMINDER_EMAILS = Counter("tracker_reminder_emails", "Reminder e-mails queued by reminder passes.")


def init_app(app: Flask) -> None:
    """Time every request by its endpoint (the URL rule's name, never the raw path)."""
    app.before_request(_start_timer)
    app.after_request(_observe_request)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe_request(response: Response) -> Response:
    started = g.get("metrics_started")
    if isinstance(started, float):
        REQUEST_SECONDS.labels(
            endpoint=request.endpoint or "unmatched",
            method=request.method,
            status=str(response.status_code),
        ).observe(time.perf_counter() - started)
    return response


@contextmanager
def reminder_pass() -> Iterator[Callable[[bool, int, int], None]]:
    """Time a reminder pass; the block reports (working day, notifications, e-mails)."""
    started = time.perf_counter()

    def report(working_day: bool, notifications: int, emails: int) -> None:
        REMINDER_PASSES.labels(working_day=str(working_day).lower()).inc()
        REMINDER_NOTIFICATIONS.inc(notifications)
        REMINDER_EMAILS.inc(emails)

    try:
        yield report
    finally:
        REMINDER_PASS_SECONDS.observe(time.perf_counter() - started)


class _Collect(Collector):
    """A collector built from a function, for figures read at scrape time."""

    def __init__(self, collect: Callable[[], Iterable[Metric]]):
        self._collect = collect

    def collect(self) -> Iterable[Metric]:
        return self._collect()


def scrape(multiproc_dir: str | None, *extra: Callable[[], Iterable[Metric]]) -> Response:
    """The text exposition: every process's metrics (when multiprocess) and ``extra``."""
    if multiproc_dir:
        registry = CollectorRegistry()
        # prometheus-client leaves this constructor unannotated (its only untyped call here).
        multiprocess.MultiProcessCollector(registry, path=multiproc_dir)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_Collect(REGISTRY.collect))
    for collect in extra:
        registry.register(_Collect(collect))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
