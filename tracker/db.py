"""Database helpers shared by every domain: UTC timestamps, SQLite pragmas, the request commit."""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask, Response, current_app
from flask_sqlalchemy.pagination import Pagination, SelectPagination
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.pool import ConnectionPoolEntry

from tracker import clock
from tracker.extensions import db

_T = TypeVar("_T")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC (from :mod:`tracker.clock`)."""
    return clock.utcnow()


def local_zone() -> ZoneInfo:
    """The zone in which deadlines are judged and times are shown (Asia/Shanghai)."""
    return ZoneInfo(current_app.config["TRACKER_TIMEZONE"])


def to_local(value: datetime | None) -> datetime | None:
    """Convert a stored UTC time to the display zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(local_zone())


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored as naive UTC on every backend and always read back aware (UTC)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


@sa.event.listens_for(Engine, "connect")
def _session_settings(  # pragma: no cover - trivial
    dbapi_connection: DBAPIConnection, connection_record: ConnectionPoolEntry
) -> None:
    """Per-connection settings: foreign keys and WAL for SQLite, no JIT for PostgreSQL.

    PostgreSQL's JIT compiles a query whose estimated cost passes ``jit_above_cost``; the
    dashboard's aggregate passes it (its correlated sub-plans are costed per group) and then
    spends about a second compiling a query that runs in a fifth of that (docs/performance.md).
    No query of this application is the long analytical kind JIT pays off for, so every
    connection turns it off, whatever the server's default.
    """
    module = type(dbapi_connection).__module__
    if module.startswith("psycopg"):
        cursor = dbapi_connection.cursor()
        cursor.execute("SET jit = off")
        cursor.close()
        dbapi_connection.commit()  # a SET inside a transaction rolled back would be undone
        return
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


# The most values one ``IN`` list carries (SQLite allows 32,766 bound parameters in a
# statement, PostgreSQL's protocol 65,535): a longer list is sent in several statements.
IN_CHUNK = 5000


def chunked(values: Iterable[_T], size: int | None = None) -> Iterator[list[_T]]:
    """``values`` in lists of at most ``size``, in order (none for no values): a reader asked
    for a whole portfolio's items at once runs one statement per chunk instead of failing on
    too many parameters, and one statement for any ordinary page."""
    size = size or IN_CHUNK
    batch: list[_T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def unindexed(
    column: sa.ColumnElement[Any] | sa.orm.InstrumentedAttribute[Any],
) -> sa.ColumnElement[Any]:
    """``column`` in a form no index can serve (``column || ''``), to compare with ``IN``.

    SQLite keeps no statistics unless analysed, so it takes any indexed equality for a
    selective one: asked for a few items' milestones among the submitted or accepted reports,
    it walks the ``report (state, …)`` index over every report ever submitted and probes the
    long key list for each, a cost that grows with history (minutes at portfolio scale).
    Written through this, the state narrows the rows found from the selective side (the
    items' keys, or their obligations) instead of choosing them. PostgreSQL plans the same
    query from its statistics either way.
    """
    return sa.type_coerce(column.op("||")(sa.literal_column("''")), sa.String)


@contextmanager
def without_hash_joins(session: Any) -> Iterator[None]:
    """Run the enclosed queries with PostgreSQL's hash joins off, then put them back.

    For a query that joins one period's obligations to their reports: the planner prefers
    hashing the period's obligations and scanning every quarter's reports, a cost that grows
    with history; with hash joins off it probes the report's unique index once per obligation
    (docs/performance.md). ``SET LOCAL`` holds for this transaction only and is reset after
    the block; SQLite is untouched.
    """
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.execute(sa.text("SET LOCAL enable_hashjoin = off"))
    yield
    # Not in a ``finally``: after an error the transaction is aborted and rolled back, which
    # undoes the SET LOCAL by itself.
    session.execute(sa.text("SET LOCAL enable_hashjoin TO DEFAULT"))


def init_request_transaction(app: Flask) -> None:
    """One commit per request: commit after a successful response, roll back otherwise.

    Services only flush; this hook is the one place a web request commits.
    """

    @app.after_request
    def _commit(response: Response) -> Response:
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def _rollback_on_error(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()


# ``INSERT … ON CONFLICT`` by dialect name, for the two backends the app runs on (a KeyError for
# any other). Typed here once, so that both dialects' ``on_conflict_*`` methods are seen.
ON_CONFLICT_INSERT: dict[str, Callable[[Any], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


class _CountedPagination(SelectPagination):
    """A page whose total comes from a narrower query than the page's own."""

    def _query_count(self) -> int:
        return int(self._query_args["session"].scalar(self._query_args["total"]) or 0)


def paginate_counted(
    select: sa.Select[Any], total: sa.Select[Any], *, page: int, per_page: int
) -> Pagination:
    """``db.paginate(select, error_out=False)`` with the total counted by ``total``: a count
    that gives the same number without the page's joins and loads (the obligations of one
    period by its index, say), so that counting does not cost what building every row would.
    A page number past the end shows no rows, as ``db.paginate`` does."""
    return _CountedPagination(
        select=select, total=total, session=db.session(), page=page, per_page=per_page,
        error_out=False,
    )  # fmt: skip


class _KeyedPagination(_CountedPagination):
    """A page cut from a narrow query of keys, its rows then loaded for those keys alone."""

    def _query_items(self) -> list[Any]:
        args = self._query_args
        keys = args["keys"].limit(self.per_page).offset(self._query_offset)
        select = args["select"].where(args["key"].in_(keys))
        return list(args["session"].execute(select).unique().scalars())


def paginate_keyed(
    select: sa.Select[Any],
    keys: sa.Select[Any],
    total: sa.Select[Any],
    *,
    key: sa.ColumnElement[Any] | InstrumentedAttribute[Any],
    page: int,
    per_page: int,
) -> Pagination:
    """:func:`paginate_counted`, with the page cut from ``keys``: the ids of ``select``'s rows
    in the same order (its ``ORDER BY`` ending with a unique column), selected without the
    page's loads. The database then sorts the narrow keys of every matching row to find the
    page's, not the rows themselves with their joined texts, and ``select`` (ordered the same
    way) loads the page's rows by ``key IN (…)``: one statement, as before."""
    return _KeyedPagination(
        select=select, keys=keys, key=key, total=total, session=db.session(), page=page,
        per_page=per_page, error_out=False,
    )  # fmt: skip


def rows_changed(result: sa.Result[Any]) -> int:
    """How many rows the UPDATE or DELETE that gave ``result`` changed.

    ``Session.execute`` is typed to return a plain ``Result``; for these statements it is a
    ``CursorResult``, the kind that carries ``rowcount``.
    """
    assert isinstance(result, sa.CursorResult)
    return result.rowcount


def enum_column(kind: type[enum.Enum], name: str, length: int = 16) -> sa.Enum:
    """A string column holding an enum's values, with a CHECK constraint, on every backend."""
    return sa.Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


def make_sqlite_file_private(url: str) -> None:
    """Create an SQLite database file readable by its owner only (0600), or make it so.

    SQLite creates a missing file with the process's umask (usually 0644) and gives its
    ``-wal`` and ``-shm`` files the database file's mode: creating the file first, 0600, keeps
    all three private. Other backends (and in-memory databases) are left alone.
    """
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return
    path = os.path.abspath(parsed.database)
    if not os.path.isdir(os.path.dirname(path)):
        return  # SQLite's own error says which folder is missing
    if not os.path.exists(path):
        # Only a missing file is opened (and created). Closing any descriptor of a database
        # file drops every POSIX lock this process holds on it, so opening an existing one
        # here, while another app of this process has it open (a second app object, a test),
        # would let other processes write under its feet and corrupt it.
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it a moment ago
        else:
            os.close(descriptor)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix) and os.stat(path + suffix).st_uid == os.getuid():
            os.chmod(path + suffix, 0o600)
