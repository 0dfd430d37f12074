"""The auditor's page: only the audit administrator reads it; filters by time, actor,
department, action and outcome; keyset pages; wrong input kept and named; the Excel export
holds exactly the filtered rows."""

from __future__ import annotations

import html
import io
import re
from datetime import datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from tests.conftest import BEIJING
from tracker import clock
from tracker.audit.models import AuditEvent, Outcome
from tracker.audit.services import record_event
from tracker.extensions import db


@pytest.fixture
def auditor(seeded, make_user, login):
    user = make_user("auditor")
    login(user)
    return user


def _ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="outcome-\w+">\s*<td>(\d+)</td>', page)]


def _next(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">下一页</a>', page)
    return html.unescape(found.group(1)) if found else None


def test_the_auditor_lands_on_the_trail_and_nobody_else_reads_it(client, seeded, make_user,
                                                                 login):  # fmt: skip
    auditor = make_user("auditor")
    login(auditor)
    assert client.get("/").headers["Location"].endswith("/audit")
    assert client.get("/audit").status_code == 200
    assert client.get("/audit/export.xlsx").status_code == 200
    for role, department in (("admin", None), ("security_admin", None), ("coordinator", "mca"),
                             ("liaison", "mca"), ("viewer", None)):  # fmt: skip
        login(make_user(role, department))
        assert client.get("/audit").status_code == 403, role
        assert client.get("/audit/export.xlsx").status_code == 403, role


def test_filters_select_by_actor_department_action_outcome_and_time(client, auditor, make_user):
    mca, mps = make_user("liaison", "mca"), make_user("liaison", "mps")
    base = datetime(2026, 6, 1, 10, 0, tzinfo=BEIJING)
    made = {}
    for n, (who, action, outcome) in enumerate([
        (mca, "user.login", Outcome.SUCCESS), (mca, "user.login", Outcome.FAILURE),
        (mps, "user.login", Outcome.SUCCESS), (mps, "report.submit", Outcome.SUCCESS),
        (mca, "access.refused", Outcome.REFUSED), (None, "period.open", Outcome.SUCCESS),
    ]):  # fmt: skip
        with clock.frozen(base + timedelta(days=n)):
            made[n] = record_event(action, actor=who, object_type="x", outcome=outcome).id
    db.session.commit()

    def shown(**args) -> list[int]:
        response = client.get("/audit", query_string=args)
        assert response.status_code == 200, response.data.decode()
        return sorted(i for i in _ids(response.data.decode()) if i in made.values())

    everything = sorted(made.values())
    assert shown() == everything
    assert shown(actor=mca.username) == [made[0], made[1], made[4]]
    assert shown(department=str(mps.department_id)) == [made[2], made[3]]
    assert shown(operation="user.login") == [made[0], made[1], made[2]]
    assert shown(operation="user.") == []  # exact names only
    assert shown(outcome="refused") == [made[4]]
    assert shown(outcome="failure", actor=mca.username) == [made[1]]
    assert shown(start="2026-06-02", end="2026-06-04") == [made[1], made[2], made[3]]
    assert shown(start="2026-06-06") == [made[5]]
    page = client.get("/audit", query_string={"actor": mca.username}).data.decode()
    assert f'value="{mca.username}"' in page  # the filter stays in its field


def test_pages_go_back_by_id_without_overlap_or_gap(client, auditor):
    ids = [record_event("test.many", object_type="x", object_id=n).id for n in range(120)]
    db.session.commit()
    seen, url, pages = [], "/audit?operation=test.many", 0
    while url:
        page = client.get(url).data.decode()
        rows = _ids(page)
        assert rows == sorted(rows, reverse=True)
        seen += rows
        url = _next(page)
        pages += 1
        assert url is None or "operation=test.many" in url
    assert pages == 3 and seen == sorted(ids, reverse=True)
    nonsense = client.get("/audit?before_id=abc&operation=test.many")
    assert nonsense.status_code == 200 and _ids(nonsense.data.decode())[0] == ids[-1]


@pytest.mark.parametrize(
    ("args", "message", "kept"),
    [
        ({"start": "2026-13-01"}, "起始日期应为日期", 'value="2026-13-01"'),
        ({"end": "明天"}, "截止日期应为日期", 'value="明天"'),
        (
            {"start": "2026-06-05", "end": "2026-06-01"},
            "截止日期不能早于起始日期",
            'value="2026-06-01"',
        ),
        ({"actor": "nobody-here"}, "没有用户名为“nobody-here”的账号", 'value="nobody-here"'),
        ({"department": "99999"}, "请从列表中选择部门", ""),
        ({"operation": "user.login'; --"}, "操作名称只含字母", 'value="user.login&#39;; --"'),
        ({"outcome": "maybe"}, "请从列表中选择结果", ""),
        ({"actor": "x" * 300}, "用户名最多 64 个字符", ""),
    ],
)
def test_wrong_filters_are_kept_and_named_never_a_500(client, auditor, args, message, kept):
    record_event("test.row", object_type="x")
    db.session.commit()
    response = client.get("/audit", query_string=args)
    page = response.data.decode()
    assert response.status_code == 422
    assert message in page and kept in page
    assert 'aria-invalid="true"' in page and _ids(page) == []
    again = client.get("/audit/export.xlsx", query_string=args)
    assert again.status_code == 303 and "/audit?" in again.headers["Location"]


def test_the_export_holds_the_filtered_rows_as_text(app, client, auditor, make_user):
    liaison = make_user("liaison", "mca")
    agent = '=HYPERLINK("http://example.invalid")'
    for n in range(3):
        with app.test_request_context(headers={"User-Agent": agent}):
            record_event("test.export", actor=liaison, object_type="x", object_id=n,
                         after={"n": n, "text": "=1+1"})  # fmt: skip
    record_event("test.other", object_type="x")
    db.session.commit()
    response = client.get("/audit/export.xlsx?operation=test.export")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [r[5] for r in rows] == ["test.export"] * 3
    assert [r[7] for r in rows] == [2, 1, 0]
    assert rows[0][2] == liaison.username and rows[0][3] == "民政部"
    assert rows[0][8] == "成功" and '"text": "=1+1"' in rows[0][9]
    assert rows[0][10] == agent  # a text that looks like a formula stays text
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    db.session.expire_all()
    (export,) = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "export.download")
    ).all()
    assert export.actor_id == auditor.id and export.after["rows"] == 3
    assert export.after["filters"] == {"operation": "test.export"}
