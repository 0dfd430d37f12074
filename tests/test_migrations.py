"""Migrations are code: ``upgrade head`` on an empty database yields exactly the models."""

from __future__ import annotations

import logging
import logging.config

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from tests.conftest import database_url_for_tests
from tracker import create_app
from tracker.extensions import db


@pytest.fixture
def empty_database_url(tmp_root, tmp_path):
    """A database nobody else uses: a new SQLite file, or a fresh PostgreSQL database."""
    base = sa.engine.make_url(database_url_for_tests(tmp_root))
    if base.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"{base.database}_migrations"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _not_search_index(name, type_, parents):
    from tracker.search.models import is_search_index_object

    return not is_search_index_object(name, type_)


def test_upgrade_head_matches_models_and_downgrade_empties(empty_database_url):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            # The search indexes of 0011s are no model (virtual tables, expression indexes).
            opts = {"compare_type": True, "include_name": _not_search_index}
            context = MigrationContext.configure(conn, opts=opts)
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        downgrade(revision="base")
        remaining = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        db.engine.dispose()


def _accepted(obligation, liaison, coordinator, status, confirmed):
    from tracker.reports import services
    from tracker.reports.services import ReportInput

    report = services.save_draft(
        obligation,
        ReportInput(status=status, progress="已开展培训。"),
        actor=liaison,
        expected_version=None,
    )
    services.submit_report(report, actor=liaison)
    services.accept_report(report, actor=coordinator, confirmed_status=confirmed)
    return report


def _report_rows() -> list[list[dict]]:
    """Every row of the tables 0007 reads, with the columns they have at this revision."""
    tables = ("obligation", "report", "report_version")
    reflected = sa.MetaData()
    return [
        [
            dict(row)
            for row in db.session.execute(
                sa.select(sa.Table(name, reflected, autoload_with=db.session.connection()))
            ).mappings()
        ]
        for name in tables
    ]


def test_0007_lists_reports_confirmed_as_not_started_and_changes_nothing(
    empty_database_url, caplog, monkeypatch
):
    from tests.conftest import _seed_catalogue
    from tests.reports.conftest import Quarter
    from tracker.auth.services import create_user, resolve_department
    from tracker.catalogue.services import apply_seed
    from tracker.reports import services
    from tracker.reports.models import ProgressStatus as S

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url,
         "TRACKER_SIGNOFF_REQUIRED": False}  # the liaison submits directly here
    )  # fmt: skip
    # env.py's fileConfig would replace the handlers caplog listens with; keep the test's.
    monkeypatch.setattr(logging.config, "fileConfig", lambda *args, **kwargs: None)
    caplog.set_level(logging.INFO, logger="alembic")
    with app.app_context():
        # The data is built with today's services on today's schema, then the database is taken
        # back to where it stood before 0007, and 0007 alone runs over it.
        upgrade()
        apply_seed(_seed_catalogue())
        quarter = Quarter()
        services.open_period(quarter.period)
        liaison = create_user("l1", role="liaison", password="Xx-12345678",
                              department=resolve_department("mca"))  # fmt: skip
        coordinator = create_user("c1", role="coordinator", password="Xx-12345678")
        wrong = _accepted(quarter.obligation(5, "mca"), liaison, coordinator,
                          S.IN_PROGRESS, S.NOT_STARTED)  # fmt: skip
        meant = _accepted(quarter.obligation(1, "mca"), liaison, coordinator,
                          S.NOT_STARTED, S.NOT_STARTED)  # fmt: skip
        fine = _accepted(quarter.obligation(6, "mca"), liaison, coordinator,
                         S.COMPLETED, S.COMPLETED)  # fmt: skip
        ids = (wrong.id, wrong.obligation_id, meant.id, fine.id)
        db.session.commit()
        db.session.remove()
        downgrade(revision="0006")
        before = _report_rows()
        caplog.clear()
        upgrade(revision="0007")
        assert _report_rows() == before
        downgrade(revision="0006")
        assert _report_rows() == before
        db.session.remove()
        db.engine.dispose()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("0007:")]
    assert "1 accepted report(s)" in lines[0]
    wrong_id, obligation_id, meant_id, fine_id = ids
    listed = [line for line in lines[1:] if f"report {wrong_id}," in line]
    assert len(listed) == 1 and len(lines) == 2
    assert f"obligation {obligation_id}" in listed[0]
    assert "item 5" in listed[0] and "民政部" in listed[0] and "2024Q3" in listed[0]
    assert "in_progress" in listed[0]
    assert not any(f"report {meant_id}," in line or f"report {fine_id}," in line for line in lines)


def test_0010_adds_the_support_reminder_kind_and_keeps_every_notification_link(
    empty_database_url,
):
    """0010 widens notification.kind; on SQLite the table is copied, and the reminder log's
    links to notifications (ON DELETE SET NULL) must survive it, both ways."""
    from datetime import date

    from tests.conftest import _seed_catalogue
    from tests.reports.conftest import Quarter
    from tracker.auth.services import create_user, resolve_department
    from tracker.catalogue.services import apply_seed
    from tracker.reports import services

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    with app.app_context():
        upgrade()
        apply_seed(_seed_catalogue())
        quarter = Quarter()
        services.open_period(quarter.period)
        obligation = quarter.obligation(5, "mca")
        liaison = create_user("l1", role="liaison", password="Xx-12345678",
                              department=resolve_department("mca"))  # fmt: skip
        ids = (obligation.id, liaison.id)
        db.session.commit()
        db.session.remove()
        downgrade(revision="0009")

        obligation_id, user_id = ids
        notification = sa.table(
            "notification", *(sa.column(c) for c in ("id", "user_id", "kind", "obligation_id",
                                                      "title", "body", "link", "created_at"))
        )  # fmt: skip
        log = sa.table("reminder_log", *(sa.column(c) for c in (
            "id", "obligation_id", "due_date", "rung", "recipient_id", "notification_id",
            "sent_on", "created_at")))  # fmt: skip

        def add_notification(conn, kind):
            row = {"user_id": user_id, "kind": kind, "obligation_id": obligation_id,
                   "title": "t", "body": "b", "link": "", "created_at": sa.func.now()}  # fmt: skip
            return conn.execute(notification.insert().values(row).returning(notification.c.id))

        def links():
            with db.engine.connect() as conn:
                return conn.execute(sa.select(log.c.id, log.c.notification_id)).all()

        with db.engine.begin() as conn:
            kept = add_notification(conn, "reminder").scalar_one()
            conn.execute(log.insert().values(
                obligation_id=obligation_id, due_date=date(2024, 10, 10), rung="due",
                recipient_id=user_id, notification_id=kept, sent_on=date(2024, 10, 10),
                created_at=sa.func.now()))  # fmt: skip
        before = links()
        assert before[0][1] == kept

        with db.engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
            add_notification(conn, "support_reminder")
        upgrade(revision="0010")
        assert links() == before
        with db.engine.begin() as conn:
            add_notification(conn, "support_reminder")
        with db.engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
            add_notification(conn, "not_a_kind")

        downgrade(revision="0009")
        assert links() == before
        with db.engine.connect() as conn:
            kinds = conn.execute(sa.select(notification.c.kind)).scalars().all()
        assert kinds == ["reminder"]  # the new kind's notifications go with it
        with db.engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
            add_notification(conn, "support_reminder")
        upgrade()
        db.engine.dispose()


def test_0011_adds_preferences_and_digests_and_touches_no_existing_row(empty_database_url):
    """0011 only creates tables: notifications, their e-mail and the reminder log's links stay
    as they were both ways; the new tables hold their keys and checks."""
    from datetime import date

    from tracker.auth.services import create_user

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    with app.app_context():
        # The user is made with today's model on today's schema, then taken back to 0010.
        upgrade()
        user = create_user("c1", role="coordinator", password="Xx-12345678")
        user_id = user.id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0010")
        with db.engine.begin() as conn:
            message = conn.execute(
                sa.text(
                    "INSERT INTO outbox_message (to_address, to_name, subject, body, status,"
                    " attempts, next_attempt_at, created_at) VALUES ('c@example.org', '', 's',"
                    " 'b', 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
                )
            ).scalar_one()
            conn.execute(
                sa.text(
                    "INSERT INTO notification (user_id, kind, title, body, link, created_at,"
                    " outbox_message_id) VALUES (:u, 'reminder', 't', 'b', '', CURRENT_TIMESTAMP,"
                    " :m)"
                ),
                {"u": user_id, "m": message},
            )

        def notifications():
            with db.engine.connect() as conn:
                return conn.execute(
                    sa.text("SELECT id, user_id, kind, outbox_message_id FROM notification")
                ).all()

        before = notifications()
        assert len(before) == 1 and before[0][3] == message
        upgrade(revision="0011")
        assert notifications() == before
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"notification_preference", "mail_setting", "mail_digest", "digest_entry"} <= tables
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO notification_preference (user_id, kind, email, updated_at)"
                    " VALUES (:u, 'reminder', false, CURRENT_TIMESTAMP)"
                ),
                {"u": user_id},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO mail_digest (user_id, day, items, created_at)"
                    " VALUES (:u, :d, 1, CURRENT_TIMESTAMP)"
                ),
                {"u": user_id, "d": date(2024, 10, 11)},
            )
        bad = [
            ("INSERT INTO notification_preference (user_id, kind, email, updated_at)"
             " VALUES (:u, 'not_a_kind', true, CURRENT_TIMESTAMP)"),
            ("INSERT INTO mail_setting (user_id, mode, updated_at)"
             " VALUES (:u, 'hourly', CURRENT_TIMESTAMP)"),
            ("INSERT INTO mail_digest (user_id, day, items, created_at)"
             " VALUES (:u, '2024-10-11', 2, CURRENT_TIMESTAMP)"),  # one digest per user and day
        ]  # fmt: skip
        for statement in bad:
            with db.engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
                conn.execute(sa.text(statement), {"u": user_id})
        downgrade(revision="0010")
        assert notifications() == before
        remaining = set(sa.inspect(db.engine).get_table_names())
        assert not remaining & {"notification_preference", "mail_setting", "mail_digest",
                                "digest_entry"}  # fmt: skip
        upgrade()
        assert notifications() == before
        db.engine.dispose()


def _search_objects(engine) -> set[tuple[str, ...]]:
    """The search index objects a database holds, as (kind, name, definition)."""
    from tracker.search.models import PG_INDEXES, SEARCH_FTS_TABLES

    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(
                sa.text("SELECT 'index', indexname, indexdef FROM pg_indexes "
                        "WHERE indexname = ANY(:names)"), {"names": list(PG_INDEXES)}
            )  # fmt: skip
        else:
            rows = conn.execute(
                sa.text("SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'search_%'")
            )
        found = {tuple(row) for row in rows}
    names = {name for _, name, _ in found}
    expected = set(PG_INDEXES) if engine.dialect.name == "postgresql" else set(SEARCH_FTS_TABLES)
    assert not expected - names or not names, f"some search objects missing: {expected - names}"
    return found


def test_0011s_indexes_what_is_stored_and_builds_what_create_all_builds(empty_database_url):
    """0011s over a database with reports: the rows stored before are found; the objects are
    exactly those the models attach to ``create_all`` (the test database's); downgrade removes
    them and the search falls back to nothing broken."""
    from tests.conftest import _seed_catalogue
    from tests.reports.conftest import Quarter
    from tracker.auth.models import User
    from tracker.auth.services import create_user, resolve_department
    from tracker.catalogue.services import apply_seed
    from tracker.reports import services
    from tracker.reports.services import ReportInput
    from tracker.search.queries import SearchQuery, search_reports, search_tasks

    built_by_create_all = _search_objects(db.engine)
    assert built_by_create_all
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    with app.app_context():
        # The rows are written with today's models on today's schema, then the database is
        # taken back to 0011 (no search objects) and 0011s alone runs over them.
        upgrade()
        apply_seed(_seed_catalogue())
        quarter = Quarter()
        services.open_period(quarter.period)
        liaison = create_user("l1", role="liaison", password="Xx-12345678",
                              department=resolve_department("moj"))  # fmt: skip
        services.save_draft(quarter.obligation(11, "moj"),
                            ReportInput(progress="迁移之前写下的鑫淼垚森。"), actor=liaison,
                            expected_version=None)  # fmt: skip
        db.session.commit()
        liaison_id = liaison.id
        db.session.remove()
        downgrade(revision="0011")
        assert _search_objects(db.engine) == set()
        upgrade(revision="0011s")
        assert _search_objects(db.engine) == built_by_create_all
        upgrade()  # the models read today's schema
        liaison = db.session.get(User, liaison_id)
        for word in ("鑫淼", "鑫淼垚森"):
            assert len(search_reports(SearchQuery(terms=(word,)), liaison).items) == 1
        assert search_tasks(SearchQuery(terms=("关爱服务",))).total > 0
        db.session.remove()
        downgrade(revision="0011")
        assert _search_objects(db.engine) == set()
        upgrade()
        db.session.remove()
        db.engine.dispose()


def test_0011s_without_the_right_to_create_pg_trgm_says_what_to_do(empty_database_url, capfd):
    """A role that may not create the extension gets a message and changes nothing."""
    url = sa.engine.make_url(empty_database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's")
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(revision="0011")
        db.engine.dispose()
    role = f"{url.database}_noext"
    owner = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(f'GRANT SELECT, UPDATE ON alembic_version TO "{role}"'))
    try:
        limited = create_app({"TESTING": True, "SECRET_KEY": "x",
                              "SQLALCHEMY_DATABASE_URI": url.set(username=role)})  # fmt: skip
        capfd.readouterr()
        with limited.app_context(), pytest.raises(SystemExit):  # flask-migrate logs and exits
            upgrade(revision="0011s")
        assert "may not create it" in capfd.readouterr().err
        with limited.app_context():
            db.engine.dispose()
        with owner.connect() as conn:
            assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0011"
            assert not conn.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
    finally:
        with owner.connect() as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
        owner.dispose()


def test_0013_marks_every_existing_department_active_and_unmanaged_both_ways(
    empty_database_url,
):
    """0013 adds ``department.active`` (true) and ``managed`` (false) to the rows there are,
    NOT NULL with server defaults; downgrading drops both and keeps every department."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    with app.app_context():
        upgrade(revision="0012")
        with db.engine.begin() as conn:
            for code, name in (("mca", "民政部"), ("mps", "公安部")):
                conn.execute(
                    sa.text(
                        "INSERT INTO department (code, name, short_name, aliases, position)"
                        " VALUES (:c, :n, :n, '[]', 0)"
                    ),
                    {"c": code, "n": name},
                )

        def departments():
            with db.engine.connect() as conn:
                return conn.execute(
                    sa.text("SELECT id, code, name FROM department ORDER BY id")
                ).all()

        before = departments()
        upgrade(revision="0013")
        columns = {c["name"]: c for c in sa.inspect(db.engine).get_columns("department")}
        assert columns["active"]["nullable"] is False and columns["managed"]["nullable"] is False
        with db.engine.begin() as conn:
            rows = conn.execute(
                sa.text("SELECT code, active, managed FROM department ORDER BY id")
            ).all()
            assert [(code, bool(a), bool(m)) for code, a, m in rows] == [
                ("mca", True, False),
                ("mps", True, False),
            ]
            # a row written without the columns gets the defaults from the database
            conn.execute(
                sa.text(
                    "INSERT INTO department (code, name, short_name, aliases, position)"
                    " VALUES ('moj', '司法部', '司法部', '[]', 2)"
                )
            )
            new = conn.execute(
                sa.text("SELECT active, managed FROM department WHERE code = 'moj'")
            ).one()
            assert (bool(new[0]), bool(new[1])) == (True, False)
            conn.execute(sa.text("DELETE FROM department WHERE code = 'moj'"))
        assert departments() == before
        downgrade(revision="0012")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("department")}
        assert "active" not in columns and "managed" not in columns
        assert departments() == before
        db.session.remove()
        db.engine.dispose()


# Tables whose rows reference ``user``, ``notification`` or ``report``: 0019 widens constraints
# of the first two and adds columns to the third, and a table copy on SQLite would fire their
# ON DELETE actions.
_KEPT_TABLES = ("user", "user_session", "notification", "digest_entry", "reminder_log",
                "report", "report_version", "key_figure", "audit_event")  # fmt: skip


def test_0019_admits_the_approver_and_the_signoff_kind_and_keeps_every_row_both_ways(
    empty_database_url,
):
    """From 0017 to head in one run (0018 writes first, so SQLite's foreign keys stay on
    inside the transaction): every row of every table that references a widened table stays,
    the new values are admitted and others still refused; the downgrade refuses while an
    approver exists and otherwise keeps every row too."""
    from datetime import date

    from tests.conftest import _seed_catalogue
    from tests.reports.conftest import Quarter
    from tracker import clock
    from tracker.auth.models import UserSession
    from tracker.auth.services import create_user, resolve_department
    from tracker.catalogue.services import apply_seed
    from tracker.notifications.models import DigestEntry, Notification, NotificationKind
    from tracker.reminders.models import ReminderLog
    from tracker.reports import services
    from tracker.reports.services import ReportInput

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url,
         "TRACKER_SIGNOFF_REQUIRED": False}
    )  # fmt: skip
    with app.app_context():
        upgrade()
        apply_seed(_seed_catalogue())
        quarter = Quarter()
        services.open_period(quarter.period)
        obligation = quarter.obligation(5, "mca")
        liaison = create_user("l1", role="liaison", password="Xx-12345678",
                              department=resolve_department("mca"))  # fmt: skip
        report = services.save_draft(
            obligation,
            ReportInput(progress="已开展培训。", figures=[("培训人次", 1200, "人次")]),
            actor=liaison,
            expected_version=None,
        )
        now = clock.utcnow()
        db.session.add(UserSession(token_hash="1" * 64, user=liaison, created_at=now,
                                   last_seen_at=now, client_address="192.0.2.1",
                                   user_agent="test"))  # fmt: skip
        note = Notification(user_id=liaison.id, kind=NotificationKind.REMINDER, title="t",
                            body="b", link="", obligation_id=obligation.id)  # fmt: skip
        db.session.add(note)
        db.session.flush()
        db.session.add(DigestEntry(notification_id=note.id, user_id=liaison.id))
        db.session.add(ReminderLog(obligation_id=obligation.id, due_date=date(2024, 10, 10),
                                   rung="due", recipient_id=liaison.id, notification_id=note.id,
                                   sent_on=date(2024, 10, 10)))  # fmt: skip
        assert report.id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0017")
        before = _rows(_KEPT_TABLES)
        assert all(before[name] for name in _KEPT_TABLES), "every table holds a row"

        upgrade()
        after = _rows(_KEPT_TABLES)
        for name in _KEPT_TABLES:  # the columns 0018 and 0019 add aside
            assert _only(after[name], before[name]) == before[name], name
        approver = create_user("a1", role="approver", password="Xx-12345678",
                               department=resolve_department("mca"))  # fmt: skip
        db.session.add(Notification(user_id=approver.id, kind=NotificationKind.SIGNOFF,
                                    title="t", body="b", link=""))  # fmt: skip
        db.session.commit()
        with db.engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
            conn.execute(sa.text("UPDATE \"user\" SET role = 'nobody' WHERE username = 'a1'"))
        db.session.remove()

        with pytest.raises(SystemExit):  # Flask-Migrate exits after alembic's error
            downgrade(revision="0018")
        db.session.remove()
        with db.engine.connect() as conn:
            roles = conn.execute(sa.text('SELECT role FROM "user" ORDER BY id')).scalars().all()
        assert roles == ["liaison", "approver"]  # refused, nothing changed
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE \"user\" SET role = 'viewer' WHERE username = 'a1'"))
        downgrade(revision="0017")
        back = _rows(_KEPT_TABLES)
        for name in ("report", "report_version", "key_figure", "digest_entry", "reminder_log"):
            assert back[name] == before[name], name
        with db.engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
            conn.execute(sa.text("UPDATE \"user\" SET role = 'approver' WHERE username = 'l1'"))
        db.session.remove()
        db.engine.dispose()


def _rows(names) -> dict[str, list[dict]]:
    """Every row of these tables, with the columns each has at this revision, in key order."""
    reflected = sa.MetaData()
    with db.engine.connect() as conn:
        tables = {name: sa.Table(name, reflected, autoload_with=conn) for name in names}
        return {
            name: [dict(row) for row in conn.execute(
                sa.select(table).order_by(*table.primary_key.columns)).mappings()]
            for name, table in tables.items()
        }  # fmt: skip


def _only(rows: list[dict], like: list[dict]) -> list[dict]:
    """``rows`` with only the columns the rows of ``like`` have."""
    columns = set(like[0]) if like else set()
    return [{k: v for k, v in row.items() if k in columns} for row in rows]


def test_an_old_database_upgraded_in_one_run_keeps_what_references_its_accounts(
    empty_database_url,
):
    """From 0013, before the sessions (whose 0014 writes to ``user``) and the batch copy of
    ``user`` in 0016, to head in one run: an account's audit events keep their actor and its
    token stays (SQLite would null or delete them if dropping the old ``user`` fired the
    foreign keys' ON DELETE actions)."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    with app.app_context():
        upgrade(revision="0013")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                'INSERT INTO "user" (id, username, display_name, role, active, password_hash, '
                "must_change_password, created_at) VALUES (7, 'old', '老用户', 'coordinator', "
                "true, 'x', false, '2026-01-01 00:00:00')"
            ))  # fmt: skip
            conn.execute(sa.text(
                "INSERT INTO audit_event (id, actor_id, at, action, object_type) "
                "VALUES (1, 7, '2026-01-01 00:00:00', 'user.create', 'user')"
            ))  # fmt: skip
            conn.execute(sa.text(
                "INSERT INTO api_token (id, user_id, name, prefix, token_hash, created_at) "
                "VALUES (1, 7, 'x', 'trk_0000', :hash, '2026-01-01 00:00:00')"
            ), {"hash": "0" * 64})  # fmt: skip
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT actor_id FROM audit_event")).scalars().all() == [7]
            assert conn.execute(sa.text("SELECT user_id FROM api_token")).scalars().all() == [7]
            role = conn.execute(sa.text('SELECT role FROM "user" WHERE id = 7')).scalar()
            assert role == "coordinator"


def test_0020_chains_the_audit_rows_already_there_and_downgrades(empty_database_url):
    """From 0019 with audit rows in place: the upgrade chains them so that ``flask audit
    verify`` passes at once, new rows chain on, and the downgrade keeps every row."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    runner = app.test_cli_runner()
    with app.app_context():
        upgrade(revision="0019")
        with db.engine.begin() as conn:
            for n in range(3):
                conn.execute(
                    sa.text("INSERT INTO audit_event (at, action, object_type, object_id, after) "
                            "VALUES (:at, 'user.create', 'user', :n, :after)"),
                    {"at": f"2026-12-0{n + 1} 08:00:00.123456", "n": n,
                     "after": '{"a": [1, "二"]}'},
                )  # fmt: skip
        before = _rows(["audit_event"])["audit_event"]
        upgrade()
        result = runner.invoke(args=["audit", "verify"])
        assert result.exit_code == 0, result.output
        assert "3 条" in result.output
        after = _rows(["audit_event"])["audit_event"]
        assert _only(after, before) == before
        assert [row["chain_seq"] for row in after] == [1, 2, 3]
        assert {row["outcome"] for row in after} == {"success"}
        from tracker.audit.services import record_event

        record_event("test.after", object_type="x")
        db.session.commit()
        assert runner.invoke(args=["audit", "verify"]).exit_code == 0
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit_event SET object_id = 9 WHERE id = 2"))
        failed = runner.invoke(args=["audit", "verify"])
        assert failed.exit_code == 1 and "id 2" in failed.output
        db.session.remove()
        downgrade(revision="0019")
        back = _rows(["audit_event"])["audit_event"]
        assert len(back) == 4 and set(back[0]) == set(before[0])
        assert "audit_chain" not in sa.inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()


def test_0021_marks_directory_accounts_and_refuses_to_downgrade_over_them(empty_database_url):
    """0021 adds ``user.directory_dn`` (every row kept); the downgrade refuses while a
    directory account exists, which would be left without a password anyone knows."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    with app.app_context():
        upgrade(revision="0020")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                'INSERT INTO "user" (id, username, display_name, role, active, password_hash, '
                "must_change_password, created_at) VALUES (3, 'local', '本地', 'coordinator', "
                "true, 'x', false, '2026-01-01 00:00:00')"
            ))  # fmt: skip
        upgrade()
        with db.engine.begin() as conn:
            marks = conn.execute(sa.text('SELECT directory_dn FROM "user"')).scalars().all()
            assert marks == [None]
            conn.execute(sa.text('UPDATE "user" SET directory_dn = :dn'), {"dn": "uid=local,dc=x"})
        with pytest.raises(SystemExit):  # Flask-Migrate reports the refusal and exits
            downgrade(revision="0020")
        with db.engine.begin() as conn:
            conn.execute(sa.text('UPDATE "user" SET directory_dn = NULL'))
        downgrade(revision="0020")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("user")}
        assert "directory_dn" not in columns
        db.session.remove()
        db.engine.dispose()


def test_0022_creates_the_data_versions_with_the_any_period_row_and_downgrades(
    empty_database_url,
):
    """0022 creates ``period_version`` holding the ``*`` row, so that an existing database's
    dashboard caches from its first view; a change through the app then gives it a new value."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    with app.app_context():
        upgrade(revision="0021")
        upgrade()
        rows = db.session.execute(sa.text("SELECT period, version FROM period_version")).all()
        assert [period for period, _ in rows] == ["*"]
        from tracker.catalogue.models import Jurisdiction

        db.session.add(Jurisdiction(code="test", name="测试"))  # any period's figures may move
        db.session.commit()
        again = db.session.execute(sa.text("SELECT period, version FROM period_version")).all()
        assert again != rows and [period for period, _ in again] == ["*"]
        db.session.remove()
        downgrade(revision="0021")
        assert "period_version" not in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_0032_fills_the_compact_items_from_the_stored_rollups_and_downgrades(empty_database_url):
    """A centre at 0031 holding roll-ups (two revisions of one member, one with no item):
    0032 creates ``federation_rollup_item`` and fills it from each body as ``receive_rollup``
    now writes it, so that the matrix reads the same; downgrading drops it and keeps the
    roll-ups."""
    from tests.conftest import _seed_catalogue
    from tests.federation.conftest import rollup_body, seed_document, with_plans
    from tracker.catalogue.services import apply_seed
    from tracker.federation import queries, services, wire
    from tracker.federation.models import RollupItem

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    with app.app_context():
        upgrade()
        apply_seed(_seed_catalogue())
        with_plans()
        member, _ = services.add_member("130000", "河北省", "provincial", actor=None)
        first = rollup_body(1, value="100")
        first["items"].insert(0, {"item_number": 1, "narrative": "已部署。", "milestones": [],
                                  "indicators": [], "units_reporting": 1})  # fmt: skip
        second = rollup_body(2, value="150")
        empty = rollup_body(1, value="1", period="2024Q2", items=[])
        for body in (first, second, empty):
            data = wire.canonical(body)
            services.receive_rollup(member, data, wire.Rollup.model_validate_json(data))
        db.session.commit()
        written = [
            dict(row)
            for row in db.session.execute(
                sa.select(RollupItem.__table__).order_by(RollupItem.rollup_id, RollupItem.position)
            ).mappings()
        ]
        assert len(written) == 3  # two items of revision 1, one of revision 2, none of 2024Q2
        matrix = queries.provinces_matrix(seed_document(), "2024Q3")
        rollups = db.session.execute(sa.text("SELECT id, digest FROM federation_rollup")).all()
        db.session.remove()
        downgrade(revision="0031")
        assert "federation_rollup_item" not in sa.inspect(db.engine).get_table_names()
        upgrade(revision="0032")
        filled = [
            dict(row)
            for row in db.session.execute(
                sa.select(RollupItem.__table__).order_by(RollupItem.rollup_id, RollupItem.position)
            ).mappings()
        ]
        assert [{k: v for k, v in r.items() if k != "id"} for r in filled] == [
            {k: v for k, v in r.items() if k != "id"} for r in written
        ]
        again = queries.provinces_matrix(seed_document(), "2024Q3")
        assert [(r.member.code, r.rollup.revision, r.items) for r in again.rows] == [
            (r.member.code, r.rollup.revision, r.items) for r in matrix.rows
        ]
        assert (
            again.totals == matrix.totals
            and again.rows[0].items[23].indicators[0]["value"] == "150"
        )
        db.session.remove()  # the reads' transaction would hold the table against DROP INDEX
        downgrade(revision="0031")
        assert (
            db.session.execute(sa.text("SELECT id, digest FROM federation_rollup")).all() == rollups
        )
        db.session.remove()
        db.engine.dispose()
