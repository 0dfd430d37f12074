"""Evidence files: bombs and macros refused, one file a request, the limit under concurrency,
files named only after their row commits, tombstones, and ``flask evidence check``."""

from __future__ import annotations

import html
import io
import os
import stat
import threading
import time
import zipfile

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.reports import evidence as files
from tracker.reports import services, vault
from tracker.reports.models import Evidence
from tracker.reports.services import ReportError, ReportInput

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOCX_TYPES = '<Types><Default Extension="xml" ContentType="application/xml"/></Types>'


def _office(parts: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _docx(**extra: bytes | str) -> bytes:
    return _office({"[Content_Types].xml": DOCX_TYPES, "word/document.xml": "<w:document/>",
                    **extra})  # fmt: skip


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    """A private upload folder, so that the files of other tests do not count."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "TRACKER_UPLOAD_DIR", str(folder))
    return folder


@pytest.fixture
def draft(quarter, make_user, uploads):
    liaison = make_user("liaison", "mca")
    obligation = quarter.obligation(5, "mca")
    report = services.save_draft(
        obligation, ReportInput(progress="进展"), actor=liaison, expected_version=None
    )
    db.session.commit()
    return {"liaison": liaison, "obligation": obligation, "report": report}


def _post(client, obligation, *uploads: tuple[bytes, str]):
    return client.post(
        f"/obligations/{obligation.id}/evidence",
        data={"file": [(io.BytesIO(data), name) for data, name in uploads]},
        content_type="multipart/form-data",
    )


def _rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Evidence))


# -- what a file may be --------------------------------------------------------------------


MACRO_XLSX = _office(
    {"[Content_Types].xml": DOCX_TYPES, "xl/workbook.xml": "<w/>", "xl/vbaProject.bin": b"VBA"}
)
MACRO_TYPE = "application/vnd.ms-word.document.macroEnabled.main+xml"
MACRO_DOCX = _docx(**{"[Content_Types].xml": DOCX_TYPES.replace("application/xml", MACRO_TYPE)})
MACRO_DOC = files.OLE2_MAGIC + b"\0" * 64 + files.OLE2_VBA_PROJECT + b"\0" * 64
BOMB_DOCX = _docx(**{"word/media/zero.bin": b"\0" * (8 * 2**20)})


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("炸弹.docx", BOMB_DOCX, "压缩炸弹"),
        ("宏.xlsx", MACRO_XLSX, "含有宏"),
        ("宏.docx", MACRO_DOCX, "含有宏"),
        ("宏.doc", MACRO_DOC, "含有宏"),
    ],
)
def test_zip_bombs_and_macros_are_refused(client, draft, login, name, data, message):
    assert len(data) < 100_000
    login(draft["liaison"])
    response = _post(client, draft["obligation"], (data, name))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _rows() == 0


def test_a_plain_docx_is_still_accepted(client, draft, login):
    login(draft["liaison"])
    assert _post(client, draft["obligation"], (_docx(), "总结.docx")).status_code == 302
    assert _rows() == 1


def test_more_files_than_one_request_takes_are_refused_not_dropped(client, draft, login):
    login(draft["liaison"])
    response = _post(client, draft["obligation"], *[(PDF, f"材料{n}.pdf") for n in range(30)])
    assert response.status_code == 422
    assert "一次只能上传 1 个文件，本次选择了 30 个，均未保存" in response.get_data(as_text=True)
    assert _rows() == 0


def test_the_flash_shows_the_cleaned_name_never_the_raw_one(client, draft, login):
    login(draft["liaison"])
    raw = "..\\..\\etc/\u202egpj.exe\x07<b>说明" + "长" * 100 + ".pdf"
    response = _post(client, draft["obligation"], (PDF, raw))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "\u202e" not in page and "\x07" not in page and "<b>说明" not in page
    assert "已上传附件：gpj.exe&lt;b&gt;说明长" in page
    flashed = html.unescape(page.split("已上传附件：", 1)[1].split("<", 1)[0])
    assert len(flashed) <= 60 and flashed.endswith("…")


# -- the per-report limit under concurrent uploads -----------------------------------------


def test_the_limit_holds_under_25_concurrent_uploads(app, draft):
    clients = []
    for _ in range(25):
        client = app.test_client()
        response = client.post(
            "/login", data={"username": draft["liaison"].username, "password": PASSWORD}
        )
        assert response.status_code == 302
        clients.append(client)
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    obligation_id = draft["obligation"].id

    def upload(client, number):
        with app.app_context():
            start.wait()
            response = client.post(
                f"/obligations/{obligation_id}/evidence",
                data={"file": (io.BytesIO(PDF), f"材料{number}.pdf")},
                content_type="multipart/form-data",
            )
            statuses.append(response.status_code)

    threads = [threading.Thread(target=upload, args=(c, n)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    assert sorted(statuses) == [302] * files.MAX_FILES_PER_REPORT + [422] * 5
    assert _rows() == files.MAX_FILES_PER_REPORT
    stored = set(db.session.scalars(sa.select(Evidence.stored_name)))
    on_disk = {p.name for p in files.upload_dir().iterdir()}
    assert on_disk == stored  # no file without its row, no temporary file left


def test_a_tombstone_frees_its_place_under_the_limit(draft):
    report, liaison = draft["report"], draft["liaison"]
    items = [
        services.add_evidence(report, f"{n}.pdf", PDF, actor=liaison)
        for n in range(files.MAX_FILES_PER_REPORT)
    ]
    with pytest.raises(ReportError, match="最多 20 个附件"):
        services.add_evidence(report, "多一个.pdf", PDF, actor=liaison)
    services.remove_evidence(items[0], actor=liaison)
    services.add_evidence(report, "替换.pdf", PDF, actor=liaison)
    assert len(report.evidence) == files.MAX_FILES_PER_REPORT


# -- writing: a temporary name until the row commits ---------------------------------------


def test_a_file_gets_its_name_only_when_its_row_commits(draft, uploads):
    report, liaison = draft["report"], draft["liaison"]
    item = services.add_evidence(report, "a.pdf", PDF, actor=liaison)
    final = uploads / item.stored_name
    part = uploads / (item.stored_name + files.PART_SUFFIX)
    assert vault.read_all(part) == PDF and not final.exists()
    assert b"%PDF" not in part.read_bytes()  # encrypted at rest
    db.session.rollback()  # the request failed: neither the row nor the file stays
    assert not part.exists() and not final.exists()

    item = services.add_evidence(report, "a.pdf", PDF, actor=liaison)
    db.session.commit()
    final = uploads / item.stored_name
    assert vault.read_all(final) == PDF
    assert stat.S_IMODE(final.stat().st_mode) == 0o600
    assert [p.name for p in uploads.iterdir()] == [item.stored_name]


def test_a_full_disk_leaves_no_partial_file(draft, uploads, monkeypatch):
    def full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(OSError):
        services.add_evidence(draft["report"], "a.pdf", PDF, actor=draft["liaison"])
    assert list(uploads.iterdir()) == []


# -- removing: a tombstone --------------------------------------------------------------------


def test_removing_keeps_a_tombstone_and_its_name_and_hash_in_the_audit(client, draft, login):
    report, liaison = draft["report"], draft["liaison"]
    item = services.add_evidence(report, "统计表.pdf", PDF, actor=liaison)
    db.session.commit()
    item_id, stored_name = item.id, item.stored_name
    login(liaison)
    response = client.post(f"/evidence/{item_id}/delete", data={"confirm": "1"})
    assert response.status_code == 302
    tombstone = db.session.get(Evidence, item_id)
    assert tombstone.removed_at is not None and tombstone.removed_by_id == liaison.id
    assert tombstone.stored_name == stored_name and files.path_of(stored_name).is_file()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "evidence.remove"))
    assert event.before["stored_name"] == stored_name
    assert event.before["sha256"] == tombstone.sha256
    assert client.get(f"/evidence/{item_id}").status_code == 404
    again = client.post(f"/evidence/{item_id}/delete", data={"confirm": "1"})
    assert again.status_code == 404


# -- flask evidence check -----------------------------------------------------------------------


def test_evidence_check_removes_orphans_and_reports_missing_files(runner, draft, uploads):
    report, liaison = draft["report"], draft["liaison"]
    kept = services.add_evidence(report, "kept.pdf", PDF, actor=liaison)
    lost = services.add_evidence(report, "lost.pdf", PDF, actor=liaison)
    unrenamed = services.add_evidence(report, "unrenamed.pdf", PDF, actor=liaison)
    db.session.commit()
    (uploads / lost.stored_name).unlink()  # a missing file
    (uploads / unrenamed.stored_name).rename(uploads / (unrenamed.stored_name + ".part"))
    orphan = uploads / ("0" * 32)  # a file whose row never committed
    orphan.write_bytes(PDF)
    stale = uploads / ("1" * 32 + ".part")  # a killed upload, long ago
    stale.write_bytes(PDF[:10])
    old = time.time() - 7200
    os.utime(stale, (old, old))
    young = uploads / ("2" * 32 + ".part")  # perhaps still being written
    young.write_bytes(PDF[:10])

    dry = runner.invoke(args=["evidence", "check", "--dry-run"])
    assert dry.exit_code == 1
    assert orphan.exists() and stale.exists()

    result = runner.invoke(args=["evidence", "check"])
    assert result.exit_code == 1  # a file is missing
    assert f"缺少文件：{lost.stored_name}" in result.output
    assert "孤立文件 2 个（已删除 2 个）" in result.output
    assert not orphan.exists() and not stale.exists() and young.exists()
    assert vault.read_all(uploads / unrenamed.stored_name) == PDF  # its rename completed
    assert (uploads / kept.stored_name).is_file()
