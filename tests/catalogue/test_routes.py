"""The catalogue pages: list with filters, one task, departments, one department."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tracker.catalogue.models import Task
from tracker.extensions import db


def _rows(html: str) -> list[str]:
    return re.findall(r'data-number="(\d+)"', html)


def test_catalogue_lists_all_23_items(client, seeded, make_user, login):
    login(make_user("viewer"))
    html = client.get("/tasks").get_data(as_text=True)
    assert _rows(html) == [str(n) for n in range(1, 24)]
    assert "共 23 项" in html
    assert "公安部 · 牵头" in html


def test_filter_by_department_and_role(client, seeded, make_user, login):
    login(make_user("viewer"))
    html = client.get("/tasks?department=mps").get_data(as_text=True)
    assert _rows(html) == ["11", "22"]  # item 22 binds every department
    html = client.get("/tasks?department=acwf&role=lead").get_data(as_text=True)
    assert _rows(html) == ["7", "16", "18", "20"]


def test_filter_by_section(client, seeded, make_user, login):
    login(make_user("viewer"))
    html = client.get("/tasks?section=三").get_data(as_text=True)
    assert _rows(html) == ["18", "19", "20", "21"]


def test_invalid_filter_shows_everything_with_a_message(client, seeded, make_user, login):
    login(make_user("viewer"))
    html = client.get("/tasks?department=<script>").get_data(as_text=True)
    assert "筛选条件无效" in html
    assert len(_rows(html)) == 23
    assert "<script>" not in html


def test_task_page_shows_text_clause_and_roles(client, seeded, make_user, login):
    login(make_user("liaison", "mps"))
    task = db.session.scalar(sa.select(Task).where(Task.number == 11))
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "加大对侵害农村留守妇女合法权益违法犯罪行为的打击和惩治力度" in html
    assert "公安部牵头，司法部、农业农村部、全国妇联按照职责分工负责" in html


def test_department_page_groups_items_by_role(client, seeded, make_user, login):
    login(make_user("coordinator", "mca"))
    html = client.get("/departments/acwf").get_data(as_text=True)
    lead = html.split('id="role-lead"')[1].split("</section>")[0]
    assert "牵头（4 项）" in lead
    support = html.split('id="role-support"')[1].split("</section>")[0]
    assert "配合（4 项）" in support  # items 3, 10, 11, 23
    joint = html.split('id="role-joint"')[1].split("</section>")[0]
    assert "共同负责（10 项）" in joint  # 1, 2, 6, 13, 14, 15, 17, 19, 21 and 22 (各部门)


def test_a_long_catalogue_is_paged_with_whole_document_counts(client, seeded, make_user, login):
    """113 items of two documents: 100 on the first page, the rest on the second; each
    document's heading counts all its items, and the filters survive the page links."""
    import datetime as dt

    from tracker.catalogue.seedfile import SeedDocument, SeedTask
    from tracker.catalogue.services import create_document
    from tracker.extensions import db

    tasks = [
        SeedTask(n, None, f"第二份文件的第{n}项任务", "民政部负责", None, [("mca", "lead")])
        for n in range(1, 91)
    ]
    create_document(
        SeedDocument("民函〔2020〕1号", "第二份文件", "民政部", dt.date(2020, 1, 2)), tasks
    )
    db.session.commit()
    login(make_user("viewer"))
    first = client.get("/tasks").get_data(as_text=True)
    assert "共 113 项，来自 2 个文件" in first and "第 1 / 2 页，共 113 条" in first
    assert "；90 项）" in first  # the newer document comes first, counted whole
    assert first.count('data-number="') == 100
    second = client.get("/tasks", query_string={"page": 2}).get_data(as_text=True)
    assert second.count('data-number="') == 13 and "；23 项）" in second
    filtered = client.get("/tasks", query_string={"department": "mca"}).get_data(as_text=True)
    assert "department=mca" in filtered and "page=2" in filtered
