"""GET never changes domain state: every GET route of the url map, for every role, writes nothing.

A statement listener on the engine records every INSERT, UPDATE and DELETE while the GET
requests run. The only writes allowed are audit events (downloads, exports and refusals are
audited, and their commit moves the chain's head) and the credential's own bookkeeping: a
bearer token's ``last_used_at`` and a web session's ``last_seen_at`` (the idle time-out's
clock), each written at most once a minute; anything else on those tables is still a write.
Periods are opened and quarters frozen by the scheduler and by CLI commands, never by a page.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.auth.test_access_table import USERS, _rules, _signed_in, _token_only, _url
from tracker.api.services import create_token
from tracker.extensions import db
from tracker.reports import queries as report_queries
from tracker.reports.models import Obligation

# Writes a GET may make: the audit trail of downloads, exports and refusals, and the chain head
# that sealing those events at commit moves.
ALLOWED_TABLES = {"audit_event", "audit_chain"}
WRITE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.IGNORECASE)


@pytest.fixture
def writes(app):
    """The (table, statement) of every write sent to the database while the test runs."""
    seen: list[tuple[str, str]] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        match = WRITE.match(statement)
        if match:
            seen.append((match.group(2).lower(), statement.split("\n")[0][:120]))

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listen)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", listen)


BOOKKEEPING = re.compile(
    r"^UPDATE (api_token SET last_used_at=[^,]* WHERE api_token.id = [^,]*"
    r"|user_session SET last_seen_at=[^,]* WHERE user_session.id = [^,]*)$"
)


def _forbidden(seen):
    return [
        entry
        for entry in seen
        if entry[0] not in ALLOWED_TABLES and not BOOKKEEPING.match(entry[1])
    ]


# Imported here so that pytest finds the fixture this module shares with the access table.
from tests.auth.test_access_table import world  # noqa: E402,F401


def _walk_gets(app, world, writes, who, values, query=None) -> None:  # noqa: F811
    """GET every route of the url map as ``who`` (pages with the session, the API with a
    token of theirs), failing on the first one that writes anything but what is allowed."""
    client = _signed_in(app, world[who])
    _, raw = create_token(world[who], name="read-only check", actor=world[who])
    db.session.commit()
    api = app.test_client()
    writes.clear()  # signing in and issuing the token are POST-side work
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        url = _url(app, rule, values)
        if _token_only(rule):
            api.get(url, headers={"Authorization": f"Bearer {raw}"}, query_string=query)
        else:
            client.get(url, query_string=query)
        assert not _forbidden(writes), f"GET {url} as {who} wrote: {_forbidden(writes)}"


@pytest.mark.parametrize("who", USERS)
def test_no_get_route_writes(app, world, writes, who):  # noqa: F811 - the shared fixture
    """Every page and every API read, as each user: only audit events may be written."""
    _walk_gets(app, world, writes, who, world["values"])


def test_no_get_route_opens_a_period(app, world, writes):  # noqa: F811
    """The same for a tracked quarter not opened yet, named in the URL and in ``?period=``: a
    page or an API read shows it empty, it does not create its obligations."""
    earlier = report_queries.current_period().previous()
    app.config["TRACKER_FIRST_PERIOD"] = earlier.key
    try:
        values = {**world["values"], "period": earlier.key}
        for who in ("coordinator", "own_liaison", "leader"):
            _walk_gets(app, world, writes, who, values, query={"period": earlier.key})
    finally:
        app.config["TRACKER_FIRST_PERIOD"] = None
    count = sa.select(sa.func.count()).select_from(Obligation)
    assert db.session.scalar(count.where(Obligation.period == earlier.key)) == 0


def test_a_session_is_touched_at_most_once_a_minute(app, world, writes):  # noqa: F811
    """The one write a page view makes for its session: ``last_seen_at``, once a minute."""
    from datetime import timedelta

    from tracker import clock

    client = _signed_in(app, world["own_liaison"])
    start = clock.utcnow()
    with clock.frozen(start + timedelta(seconds=5)):
        writes.clear()
        client.get("/tasks")
        client.get("/reports")
        assert not [w for w in writes if w[0] == "user_session"]
    with clock.frozen(start + timedelta(minutes=2)):
        client.get("/tasks")
        client.get("/reports")
    touches = [w for w in writes if w[0] == "user_session"]
    assert len(touches) == 1 and BOOKKEEPING.match(touches[0][1]), touches
    assert not _forbidden(writes)


def test_the_listener_sees_a_write(app, world, writes):  # noqa: F811
    """The check can fail: a write through the same engine is recorded."""
    world["own_liaison"].display_name = "改名"
    db.session.commit()
    assert _forbidden(writes)[0][:1] == ("user",)


def test_a_period_not_yet_opened_shows_an_empty_state(app, world, client):  # noqa: F811
    """A tracked but unopened quarter: the page says so, and opens nothing."""
    c = _signed_in(app, world["own_liaison"])
    earlier = report_queries.current_period().previous()
    app.config["TRACKER_FIRST_PERIOD"] = earlier.key
    try:
        page = c.get("/reports", query_string={"period": earlier.key})
    finally:
        app.config["TRACKER_FIRST_PERIOD"] = None
    assert page.status_code == 200
    assert "尚未开放填报" in page.get_data(as_text=True)
    opened = db.session.scalar(
        sa.select(sa.func.count()).select_from(Obligation).where(Obligation.period == earlier.key)
    )
    assert opened == 0
