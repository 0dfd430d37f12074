"""Cached dashboard answers, keyed by the period's data version, the judging day and the filters.

Reads outnumber writes by far, and every view used to recount the whole period. An answer (the
counted groups and urges, a dashboard page, the coordinator's to-do) is kept in a small
least-recently-used store in this process, under a key made of:

- the period, its data version and the any-period version (:mod:`tracker.dashboard.freshness`
  bumps them in the transaction of every change the figures read, so a write in any process
  or worker moves the key: each lookup reads the two version rows, one indexed query per
  transaction);
- the judging day (:attr:`Scope.judged_on`): the lights depend on the date through the due
  dates and the amber window, so a new day is a new key without any write;
- the filters, and the period's snapshot and the previous quarter's (id and freezing time)
  where the answer reads them.

The configuration (amber window, calendar, time zone) is fixed for an application, and each
application has its own store. A transaction that holds uncommitted changes neither reads nor
fills the store: its answer is its own until it commits.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app

from tracker.dashboard import freshness
from tracker.dashboard.models import Snapshot
from tracker.dashboard.queries.scope import Scope
from tracker.extensions import db
from tracker.periods import Period

T = TypeVar("T")

# Answers kept per process: filters × pages of the open quarters. The largest, a page of the
# matrix (50 items × 13 departments), is a few hundred kilobytes.
CACHE_SIZE = 128
_EXTENSION = "tracker.dashboard_cache"


class AnswerCache:
    """A thread-safe least-recently-used mapping of keys to answers, with hit counts."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """``(True, answer)`` when held (now the most recent), else ``(False, None)``."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return True, self._items[key]
            self.misses += 1
            return False, None

    def put(self, key: Hashable, answer: Any) -> None:
        """Keep ``answer``, dropping the least recently used beyond the size."""
        with self._lock:
            self._items[key] = answer
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every answer (the benchmark's cold views)."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def answer_cache() -> AnswerCache:
    """The current application's store (created on first use)."""
    store = current_app.extensions.get(_EXTENSION)
    if store is None:
        store = current_app.extensions.setdefault(_EXTENSION, AnswerCache())
    assert isinstance(store, AnswerCache)
    return store


def snapshot_key(snapshot: Snapshot | None) -> tuple[int, str] | None:
    """A snapshot as a key: its id and freezing time (a re-frozen quarter is a new key)."""
    return None if snapshot is None else (snapshot.id, snapshot.frozen_at.isoformat())


def scope_key(scope: Scope) -> tuple[Hashable, ...]:
    """Everything of a scope an answer may depend on, the judging day included."""
    departments = None if scope.department_ids is None else tuple(sorted(scope.department_ids))
    return (
        scope.period.key,
        scope.judged_on,
        scope.document_id,
        scope.section,
        scope.role,
        scope.rag,
        departments,
        snapshot_key(scope.snapshot),
    )


def cached(
    kind: str,
    scope: Scope,
    extra: tuple[Hashable, ...],
    compute: Callable[[], T],
    *,
    also: tuple[Period, ...] = (),
) -> T:
    """The answer of ``compute()`` for the scope, from the store while the data is unchanged.

    ``kind`` names the answer, ``extra`` holds its arguments beyond the scope, ``also`` the
    other periods it reads (the matrix compares with the previous quarter). Answers are shared
    between requests: callers must not change them.
    """
    session = db.session()
    if freshness.has_changes(session):
        return compute()  # uncommitted changes of this transaction: not for other readers
    versions = tuple(freshness.versions(session, p.key) for p in (scope.period, *also))
    if None in versions:
        return compute()  # nothing was ever bumped: no version to key the answer by
    return _lookup((kind, versions, *scope_key(scope), *extra), compute)


def cached_for_period(
    kind: str, period: Period, extra: tuple[Hashable, ...], compute: Callable[[], T]
) -> T:
    """Like :func:`cached`, for an answer that reads one period's rows and not the day (the
    number of a quarter's obligations, which the exports ask before choosing where to write)."""
    session = db.session()
    versions = None if freshness.has_changes(session) else freshness.versions(session, period.key)
    if versions is None:
        return compute()
    return _lookup((kind, versions, period.key, *extra), compute)


def cached_over_all_periods(kind: str, extra: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """Like :func:`cached`, for an answer that reads every period (a to-do list): keyed by
    every period's version, which any bump changes."""
    session = db.session()
    versions = None if freshness.has_changes(session) else freshness.all_versions(session)
    if versions is None:
        return compute()
    return _lookup((kind, versions, *extra), compute)


def _lookup(key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    session = db.session()
    store = answer_cache()
    found, answer = store.get(key)
    if found:
        result: T = answer
        return result
    result = compute()
    if not freshness.has_changes(session):  # computing may not write, but be sure
        store.put(key, result)
    return result
