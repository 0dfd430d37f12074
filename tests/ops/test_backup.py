"""``flask backup`` of a busy instance, destroyed, then ``flask restore``: every table and file.

The instance is the test's own (its own SQLite file, or its own PostgreSQL database beside the
suite's, when the suite runs on PostgreSQL), with a secret key file in its instance folder.
While the backup runs, a writer keeps adding audit events and evidence files. Afterwards the
instance is destroyed (database, uploads, key) and the archive restored into it: every table
holds a consistent prefix of what was written (all that was committed before the backup
began, no holes), nothing the instance did not hold, and every other table exactly as it was.
"""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, SEED_FILE, _create_database_once
from tracker import config as config_module
from tracker import create_app
from tracker.extensions import db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WRITER_TABLES = {"audit_event", "evidence"}
# The audit chain's head: one row that every commit with events moves; the restored trail
# must verify against the head it was backed up with. The dashboard's data versions: every
# writer's commit gives them new values (a restored version matches the restored data).
MOVING_TABLES = {"audit_chain", "period_version"}


def _database_url(tmp_path: Path) -> str:
    url = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if not url or sa.engine.make_url(url).get_backend_name() != "postgresql":
        return f"sqlite:///{tmp_path / 'instance' / 'tracker.sqlite3'}"
    base = sa.engine.make_url(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    own = base.set(database=f"{base.database}_backup_{worker}")
    _create_database_once(base, own.database)
    return own.render_as_string(hide_password=False)


class Instance:
    """A tracker instance of the test's own: database, upload folder, secret key file."""

    def __init__(self, tmp_path: Path, monkeypatch):
        self.path = tmp_path / "instance"
        self.path.mkdir()
        monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(self.path))
        monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
        config_module.ensure_secret_key_file(str(self.path))
        self.uploads = self.path / "uploads"
        self.url = _database_url(tmp_path)
        self.app = create_app({
            "TESTING": True, "SQLALCHEMY_DATABASE_URI": self.url,
            "TRACKER_UPLOAD_DIR": str(self.uploads),
            "TRACKER_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        })  # fmt: skip
        self.uploads.mkdir()

    def cli(self, *args: str):
        # Commands run in the current app context if there is one: push this instance's.
        with self.app.app_context():
            result = self.app.test_cli_runner().invoke(args=list(args))
            db.session.remove()
            db.engine.dispose()
        return result

    def destroy(self) -> None:
        with self.app.app_context():
            db.engine.dispose()
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                    conn.execute(sa.text("CREATE SCHEMA public"))
                db.engine.dispose()
            else:
                name = sa.engine.make_url(self.url).database
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{name}{suffix}").unlink(missing_ok=True)
        for path in self.uploads.iterdir():
            path.unlink()
        (self.path / "secret_key").unlink()
        (self.path / "evidence_keys").unlink(missing_ok=True)

    def is_empty(self) -> bool:
        with self.app.app_context():
            tables = sa.inspect(db.engine).get_table_names()
            db.engine.dispose()
        return not tables and not list(self.uploads.iterdir())

    def tables(self) -> dict[str, set[str]]:
        """Every table's rows, each as canonical JSON (comparable across a restore)."""
        with self.app.app_context():
            found = {}
            with db.engine.connect() as conn:
                for table in db.metadata.sorted_tables:
                    rows = conn.execute(sa.select(table)).mappings()
                    found[table.name] = {
                        json.dumps(dict(row), sort_keys=True, default=str) for row in rows
                    }
            db.engine.dispose()
        return found

    def files(self) -> dict[str, bytes]:
        return {path.name: path.read_bytes() for path in self.uploads.iterdir()}


@pytest.fixture
def instance(tmp_path, monkeypatch):
    inst = Instance(tmp_path, monkeypatch)
    with inst.app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        db.create_all()
        _fill()
        db.session.remove()
        db.engine.dispose()
    yield inst
    with inst.app.app_context():
        db.session.remove()
        db.engine.dispose()


def _fill() -> None:
    from tracker.auth.services import create_user, resolve_department
    from tracker.catalogue.seedfile import read_seed_file
    from tracker.catalogue.services import apply_seed
    from tracker.reports import queries, services
    from tracker.reports.models import Obligation

    apply_seed(read_seed_file(SEED_FILE))
    services.open_period(queries.current_period())
    mps = resolve_department("mps")
    user = create_user("backup-liaison", role="liaison", password=PASSWORD, department=mps)
    for obligation in db.session.scalars(
        sa.select(Obligation).where(Obligation.department_id == mps.id)
    ):
        services.save_draft(obligation, services.ReportInput(progress="进展"), actor=user,
                            expected_version=None)  # fmt: skip
    db.session.commit()


class Writer:
    """Adds an audit event and an evidence file per step, committed, until stopped."""

    def __init__(self, app):
        self.app, self.stop, self.committed = app, threading.Event(), []
        self.error: BaseException | None = None

    def run(self) -> None:
        from tracker.audit.services import record_event
        from tracker.auth.queries import user_by_username
        from tracker.reports.models import Report
        from tracker.reports.services import add_evidence

        try:
            with self.app.app_context():
                user = user_by_username("backup-liaison")
                reports = list(db.session.scalars(sa.select(Report).order_by(Report.id)))
                step = 0
                while not self.stop.is_set() and step < 20 * len(reports):
                    report = reports[step % len(reports)]
                    event = record_event("backup.busy", after={"step": step})
                    item = add_evidence(report, f"材料{step}.pdf", PDF + str(step).encode(),
                                        actor=user)  # fmt: skip
                    db.session.commit()
                    self.committed.append((time.monotonic(), event.id, item.id))
                    step += 1
                    time.sleep(0.005)
                db.session.remove()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while len(self.committed) < count and time.monotonic() < deadline and not self.error:
            time.sleep(0.01)
        assert self.error is None and len(self.committed) >= count


def _tampered(archive: Path, target: Path, change) -> Path:
    """A copy of ``archive`` with its members passed through ``change(name, data)``."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as out:
        for info in source.getmembers():
            data = source.extractfile(info).read()
            for name, new in change(info.name, data):
                member = tarfile.TarInfo(name)
                member.size = len(new)
                out.addfile(member, io.BytesIO(new))
    return target


def _first_upload(archive: Path) -> str:
    with tarfile.open(archive, "r:gz") as tar:
        return next(n for n in tar.getnames() if n.startswith("uploads/"))


def test_backup_of_a_busy_instance_restores_every_table_and_file(instance, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    writer = Writer(instance.app)
    thread = threading.Thread(target=writer.run)
    thread.start()
    try:
        writer.wait_for(5)
        started = time.monotonic()
        result = instance.cli("backup", "--output", str(archive))
        finished = time.monotonic()
        writer.wait_for(len(writer.committed) + 5)  # still busy after the backup
    finally:
        writer.stop.set()
        thread.join(timeout=30)
    assert writer.error is None
    assert result.exit_code == 0, result.output
    assert "已写入备份" in result.output and "权限 0600" in result.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert [c for c in writer.committed if c[0] > finished]  # writes during or after it
    before_backup = [c for c in writer.committed if c[0] < started]

    tables, files = instance.tables(), instance.files()
    secret = (instance.path / "secret_key").read_text()
    evidence_keys = (instance.path / "evidence_keys").read_text()

    refused = instance.cli("restore", str(archive))
    assert refused.exit_code == 1 and "目标实例不是空的" in refused.output
    assert instance.tables() == tables and instance.files() == files  # nothing changed

    instance.destroy()
    assert instance.is_empty()
    config_module.ensure_secret_key_file(str(instance.path))  # a new instance's own key
    assert (instance.path / "secret_key").read_text() != secret
    restored = instance.cli("restore", str(archive))
    assert restored.exit_code == 0, restored.output

    again = instance.tables()
    for name, rows in tables.items():
        if name in WRITER_TABLES:
            assert again[name] <= rows, f"{name}: rows the instance never held"
        elif name in MOVING_TABLES:
            continue
        else:
            assert again[name] == rows, f"{name} differs after the restore"
    with instance.app.app_context():
        from tracker.audit.models import AuditEvent
        from tracker.reports.models import Evidence

        events = set(db.session.scalars(
            sa.select(AuditEvent.id).where(AuditEvent.action == "backup.busy")))  # fmt: skip
        evidence = {e.id: e.stored_name for e in db.session.scalars(sa.select(Evidence))}
        db.session.remove()
        db.engine.dispose()
    written = [(event_id, item_id) for _, event_id, item_id in writer.committed]
    kept = [pair for pair in written if pair[0] in events]
    assert kept == written[: len(kept)], "the restored writes are not a prefix (a hole)"
    assert {item for _, item in kept} == {i for i in evidence if i in {p[1] for p in written}}
    assert {c[1] for c in before_backup} <= events, "writes committed before the backup lost"
    assert len(kept) < len(written), "writes after the backup should not be in it"

    restored_files = instance.files()
    assert set(evidence.values()) <= set(restored_files)  # every row has its file
    assert all(files[name] == data for name, data in restored_files.items())
    assert (instance.path / "secret_key").read_text() == secret
    # The evidence is encrypted at rest; the restored keys open it.
    assert (instance.path / "evidence_keys").read_text() == evidence_keys
    with instance.app.app_context():
        from tracker.reports import vault

        for name in restored_files:
            assert vault.is_sealed(instance.uploads / name)
            assert vault.read_all(instance.uploads / name)
    checked = instance.cli("audit", "verify")  # the restored trail is whole, with its key
    assert checked.exit_code == 0, checked.output


def test_restore_refuses_a_tampered_or_foreign_archive_and_changes_nothing(instance, tmp_path):
    with instance.app.app_context():
        from tracker.auth.queries import user_by_username
        from tracker.reports.models import Report
        from tracker.reports.services import add_evidence

        report = db.session.scalars(sa.select(Report)).first()
        add_evidence(report, "材料.pdf", PDF, actor=user_by_username("backup-liaison"))
        db.session.commit()
        db.session.remove()
    archive = tmp_path / "good.tar.gz"
    assert instance.cli("backup", "--output", str(archive)).exit_code == 0
    again = instance.cli("backup", "--output", str(archive))
    assert again.exit_code == 1 and "已存在，不会覆盖" in again.output
    instance.destroy()
    upload = _first_upload(archive)

    cases = {
        "校验和与清单不符": lambda n, d: [(n, d + b"x" if n == upload else d)],
        "清单未列出的条目": lambda n, d: [(n, d), *([("uploads/abc123", b"extra")]
                                                  if n == upload else [])],
        "不允许的条目": lambda n, d: [(n, d), *([("uploads/../../evil", b"x")]
                                              if n == upload else [])],
        "缺少清单列出的条目": lambda n, d: [] if n == upload else [(n, d)],
        "没有清单": lambda n, d: [] if n == "manifest.json" else [(n, d)],
    }  # fmt: skip
    for message, change in cases.items():
        bad = _tampered(archive, tmp_path / "bad.tar.gz", change)
        result = instance.cli("restore", str(bad))
        assert result.exit_code == 1 and message in result.output, (message, result.output)
        assert "未做任何修改" in result.output
        assert instance.is_empty() and not (instance.path / "secret_key").exists()
        bad.unlink()
    (tmp_path / "truncated.tar.gz").write_bytes(archive.read_bytes()[:200])
    truncated = instance.cli("restore", str(tmp_path / "truncated.tar.gz"))
    assert truncated.exit_code == 1 and "无法读取" in truncated.output
    assert instance.is_empty()

    assert instance.cli("restore", str(archive)).exit_code == 0
    assert len(instance.files()) == 1
