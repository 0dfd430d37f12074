"""The import page: upload or paste → preview (writes nothing) → confirm (one new document)."""

from __future__ import annotations

import html as html_module
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.catalogue.models import Assignment, Department, PolicyDocument, Role, Task
from tracker.extensions import db
from tracker.imports.textfile import MAX_TEXT_CHARS

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SECOND = {
    "number": "民办函〔2024〕12号",
    "title": "关于进一步做好农村留守妇女关爱服务工作的通知",
    "issuer": "民政部办公厅",
    "issued": "2024-03-15",
}
SEED_NUMBER = "民发〔2019〕86号"


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def _counts() -> tuple[int, ...]:
    """Documents, tasks, assignments and the audit events of changes made (a refusal is
    audited too, with its outcome)."""
    done = sa.select(AuditEvent).where(AuditEvent.outcome == "success").subquery()
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (PolicyDocument, Task, Assignment, done)
    )


def _upload(content: bytes, name: str = "attachment.txt", **fields) -> dict:
    return {**SECOND, **fields, "file": (io.BytesIO(content), name)}


def _rows(html: str) -> list[str]:
    return re.findall(r'data-number="(\d+)"', html)


def _row(html: str, number: int) -> str:
    return html.split(f'data-number="{number}"')[1].split("</tr>")[0]


def _hidden(form: str, name: str) -> str:
    """The value of one hidden input of the confirm form, as a browser would send it."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*type="hidden" value="([^"]*)"', form)
    assert match, f"no hidden {name} in the confirm form"
    return html_module.unescape(match.group(1))


def _confirm_data(html: str) -> dict:
    form = html.split('action="/imports/confirm"')[1].split("</form>")[0]
    return {name: _hidden(form, name) for name in ("number", "title", "issuer", "issued", "text")}


@pytest.fixture
def coordinator(seeded, make_user, login):
    user = make_user("coordinator", "mca")
    login(user)
    return user


def test_form_is_in_chinese_with_csrf_and_in_the_coordinators_menu(client, coordinator):
    html = client.get("/imports/new").get_data(as_text=True)

    for label in ("文号", "标题", "发文机关", "成文日期", "上传文本文件（.txt）", "或粘贴附件正文"):
        assert label in html
    assert 'name="csrf_token"' in html
    assert 'enctype="multipart/form-data"' in html
    assert '<a href="/imports/new" aria-current="page">导入文件</a>' in html


@pytest.mark.parametrize("role", ["liaison", "viewer"])
def test_other_roles_neither_see_nor_reach_the_page(client, seeded, make_user, login, role):
    login(make_user(role, "mps"))
    before = _counts()

    assert "导入文件" not in client.get("/tasks").get_data(as_text=True)
    assert client.get("/imports/new").status_code == 403
    assert client.post("/imports/new", data={**SECOND, "text": "x"}).status_code == 403
    response = client.post(
        "/imports/confirm", data={**SECOND, "text": _fixture("second_document.txt")}
    )
    assert response.status_code == 403
    assert _counts() == before


def test_admin_may_import(client, seeded, make_user, login):
    login(make_user("admin"))
    html = client.post("/imports/new", data={**SECOND, "text": _fixture("second_document.txt")})
    assert "确认导入" in html.get_data(as_text=True)


def test_preview_shows_items_and_writes_nothing(client, coordinator):
    before = _counts()

    response = client.post("/imports/new", data=_upload(_fixture("second_document.txt").encode()))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _rows(html) == ["1", "2", "3", "4"]
    assert "民政部" in _row(html, 1) and "财政部、全国妇联" in _row(html, 1)
    assert "加强农村留守妇女职业技能培训，促进就近就业。" in _row(html, 2)  # lines joined
    assert "人力资源社会保障部" in _row(html, 2)
    assert "各部门" in _row(html, 4)
    assert "has-problem" not in html
    assert "确认导入" in html
    assert _counts() == before


def test_preview_with_problems_marks_each_item_and_offers_no_confirmation(client, coordinator):
    before = _counts()

    response = client.post(
        "/imports/new", data={**SECOND, "text": _fixture("attachment_errors.txt")}
    )

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    problems = html.split('id="problems"')[1].split("</div>")[0]
    assert "发现 10 个问题" in problems
    assert "第2项：无法识别的部门「国务院办公厅」" in problems
    assert "第3项：无法解析的责任分工表述「由民政部统筹考虑」" in problems
    assert 'class="has-problem"' not in _row(html, 1)
    assert "无法识别的部门「国务院办公厅」" in _row(html, 2)
    assert 'class="has-problem"' in _row(html, 2)
    assert "无法解析的责任分工表述「由民政部统筹考虑」" in _row(html, 3)
    assert "无法识别的部门「外交部」" in _row(html, 7)
    assert "确认导入" not in html
    assert "/imports/confirm" not in html
    assert _counts() == before


def test_confirm_creates_document_tasks_assignments_and_audit_event(client, coordinator):
    preview = client.post("/imports/new", data={**SECOND, "text": _fixture("second_document.txt")})
    data = _confirm_data(preview.get_data(as_text=True))
    before = _counts()

    response = client.post("/imports/confirm", data=data)

    assert response.status_code == 302
    document = db.session.scalar(
        sa.select(PolicyDocument).where(PolicyDocument.number == SECOND["number"])
    )
    assert response.headers["Location"] == f"/tasks?document={document.id}"
    assert (document.title, document.issuer, document.issued.isoformat()) == (
        SECOND["title"],
        SECOND["issuer"],
        SECOND["issued"],
    )
    tasks = {task.number: task for task in document.tasks}
    assert sorted(tasks) == [1, 2, 3, 4]
    assert tasks[1].text == "健全农村留守妇女关爱服务工作机制，明确部门职责。"
    assert tasks[1].clause == "民政部牵头，财政部、全国妇联按照职责分工负责"
    assert tasks[1].section is None
    roles = [(a.department.code, a.role) for a in tasks[1].assignments]
    assert roles == [("mca", Role.LEAD), ("mof", Role.SUPPORT), ("acwf", Role.SUPPORT)]
    assert [(a.department.code, a.role) for a in tasks[2].assignments] == [("mohrss", Role.LEAD)]
    assert [a.department.code for a in tasks[3].assignments] == ["nhc", "acwf"]
    assert {a.role for a in tasks[3].assignments} == {Role.JOINT}
    assert tasks[4].all_departments
    all_codes = db.session.scalars(sa.select(Department.code).order_by(Department.position))
    assert [a.department.code for a in tasks[4].assignments] == list(all_codes)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "document.import"))
    assert (event.object_type, event.object_id, event.actor_id) == (
        "policy_document",
        document.id,
        coordinator.id,
    )
    assert event.after["number"] == SECOND["number"] and event.after["tasks"] == 4
    created = _counts()
    assert created[:3] == (before[0] + 1, before[1] + 4, before[2] + 3 + 1 + 2 + 13)
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"已导入 {SECOND['number']}，共 4 项任务。" in followed


def test_confirm_reparses_and_never_trusts_the_hidden_text(client, coordinator):
    before = _counts()

    response = client.post(
        "/imports/confirm", data={**SECOND, "text": _fixture("attachment_errors.txt")}
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "第2项：无法识别的部门「国务院办公厅」" in html
    assert "确认导入" not in html
    assert _counts() == before


def test_unknown_department_is_not_created_by_the_import(client, coordinator):
    text = (
        "一、加强对外交流。（外交部牵头，民政部按照职责分工负责）\n"
        "二、做好统计。（国家统计局负责）\n"
    )
    before = _counts()

    preview = client.post("/imports/new", data={**SECOND, "text": text}).get_data(as_text=True)
    confirm = client.post("/imports/confirm", data={**SECOND, "text": text})

    assert "第1项：无法识别的部门「外交部」" in preview
    assert "第2项：无法识别的部门「国家统计局」" in preview
    assert confirm.status_code == 422
    assert _counts() == before
    assert db.session.scalar(sa.select(Department).where(Department.name == "外交部")) is None


def test_second_import_of_the_same_number_is_refused(client, coordinator):
    text = _fixture("second_document.txt")
    assert client.post("/imports/confirm", data={**SECOND, "text": text}).status_code == 302
    before = _counts()

    preview = client.post("/imports/new", data={**SECOND, "text": text}).get_data(as_text=True)
    again = client.post("/imports/confirm", data={**SECOND, "text": text})
    seed_number = client.post(
        "/imports/new", data={**SECOND, "number": SEED_NUMBER, "text": text}
    ).get_data(as_text=True)

    message = f"文号为「{SECOND['number']}」的文件已经导入，不能重复导入"
    assert message in preview and "确认导入" not in preview
    assert again.status_code == 422 and message in again.get_data(as_text=True)
    assert f"文号为「{SEED_NUMBER}」的文件已经导入" in seed_number
    assert _counts() == before


@pytest.mark.parametrize("path", ["/imports/new", "/imports/confirm"])
def test_csrf_token_is_required(client, coordinator, path):
    before = _counts()

    response = client.post(
        path, data={**SECOND, "text": _fixture("second_document.txt")}, csrf=False
    )

    assert response.status_code == 400
    assert "表单已失效" in response.get_data(as_text=True)
    assert _counts() == before


def test_over_long_text_is_refused_with_a_message(client, coordinator):
    text = "一、" + "很长" * (MAX_TEXT_CHARS // 2) + "。（民政部负责）"

    response = client.post("/imports/new", data={**SECOND, "text": text})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"附件正文过长：{len(text)} 个字符，上限为 {MAX_TEXT_CHARS} 个字符" in html
    assert 'id="preview"' not in html


def test_over_large_upload_is_refused_with_a_message(client, coordinator):
    response = client.post("/imports/new", data=_upload(b"a" * (600 * 1024)))

    assert response.status_code == 422
    assert "上传的文件超过 512 KB 的上限" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("一、测试。（民政部负责）".encode("utf-16"), "上传的文件编码无法识别"),
        ("一、測試。（民政部負責）".encode("big5"), "上传的文件编码无法识别"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "上传的文件编码无法识别"),
        ("一、测试。\x00（民政部负责）".encode(), "上传的文件不是纯文本文件"),
    ],
    ids=["utf-16", "big5", "word-97", "nul-byte"],
)
def test_upload_in_another_encoding_is_refused_with_a_message(
    client, coordinator, content, message
):
    before = _counts()

    response = client.post("/imports/new", data=_upload(content))

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'id="preview"' not in html
    assert _counts() == before


def test_gb18030_upload_with_windows_line_endings_is_read(client, coordinator):
    content = _fixture("second_document.txt").replace("\n", "\r\n").encode("gb18030")

    html = client.post("/imports/new", data=_upload(content)).get_data(as_text=True)

    assert _rows(html) == ["1", "2", "3", "4"] and "确认导入" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_upload(b"x", name="attachment.docx"), "只能上传 .txt 纯文本文件"),
        ({**_upload(b"x"), "text": "x"}, "请在上传文件和粘贴正文中二选一"),
        (SECOND, "请上传 .txt 文件或粘贴附件正文"),
        ({**SECOND, "number": " ", "text": "x"}, "请输入文号"),
        ({**SECOND, "number": "号" * 65, "text": "x"}, "文号不能超过 64 个字符"),
        ({**SECOND, "issued": "2024/3/15", "text": "x"}, "成文日期格式应为 YYYY-MM-DD"),
        ({**SECOND, "issued": "2024-02-30", "text": "x"}, "成文日期格式应为 YYYY-MM-DD"),
        ({**SECOND, "title": "", "text": "x"}, "请输入文件标题"),
        ({**SECOND, "first_period": "2026q4", "text": "x"}, "首个报告期应为“四位年份"),
        ({**SECOND, "first_period": "2999Q1", "text": "x"}, "首个报告期不能晚于本季度"),
    ],
    ids=["not-txt", "both", "neither", "no-number", "long-number", "bad-date", "no-such-day",
         "no-title", "bad-first-period", "future-first-period"],
)  # fmt: skip
def test_invalid_form_is_refused_with_a_message(client, coordinator, data, message):
    before = _counts()

    response = client.post("/imports/new", data=dict(data))

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'id="preview"' not in html
    assert _counts() == before


def test_tampered_confirmation_is_revalidated(client, coordinator):
    before = _counts()

    response = client.post(
        "/imports/confirm",
        data={**SECOND, "issued": "昨天", "text": _fixture("second_document.txt")},
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "成文日期格式应为 YYYY-MM-DD" in html and "未导入任何内容" in html
    assert _counts() == before


def test_two_documents_side_by_side_in_the_catalogue(client, coordinator):
    preview = client.post("/imports/new", data=_upload(_fixture("second_document.txt").encode()))
    confirm = client.post("/imports/confirm", data=_confirm_data(preview.get_data(as_text=True)))
    assert confirm.status_code == 302
    seed = db.session.scalar(sa.select(PolicyDocument).where(PolicyDocument.number == SEED_NUMBER))
    second = db.session.scalar(
        sa.select(PolicyDocument).where(PolicyDocument.number == SECOND["number"])
    )

    both = client.get("/tasks").get_data(as_text=True)
    only_second = client.get(f"/tasks?document={second.id}").get_data(as_text=True)
    only_seed = client.get(f"/tasks?document={seed.id}").get_data(as_text=True)

    # Newest issue first, each document under its own header row.
    assert re.findall(r'class="group-row"[^>]*data-document="([^"]+)"', both) == [
        SECOND["number"],
        SEED_NUMBER,
    ]
    assert _rows(both) == ["1", "2", "3", "4"] + [str(n) for n in range(1, 24)]
    assert "共 27 项，来自 2 个文件" in both
    assert f'id="task-{second.id}-1"' in both and f'id="task-{seed.id}-1"' in both
    assert _rows(only_second) == ["1", "2", "3", "4"] and SEED_NUMBER not in _rows(only_second)
    assert f'data-document="{SEED_NUMBER}"' not in only_second
    assert _rows(only_seed) == [str(n) for n in range(1, 24)]
    assert f'data-document="{SECOND["number"]}"' not in only_seed
    ones = db.session.scalars(sa.select(Task.document_id).where(Task.number == 1)).all()
    assert sorted(ones) == sorted([seed.id, second.id])


def test_department_filter_spans_documents(client, coordinator):
    client.post("/imports/confirm", data={**SECOND, "text": _fixture("second_document.txt")})

    html = client.get("/tasks?department=mohrss&role=lead").get_data(as_text=True)

    rows = re.findall(r'data-number="(\d+)" data-document="([^"]+)"', html)
    assert rows == [("2", SECOND["number"]), ("3", SEED_NUMBER)]


def test_a_confirmation_racing_another_is_refused_cleanly(client, coordinator, monkeypatch):
    """Two coordinators confirm the same new number at once: the second sees a message.

    The race window (both passed the "number unused" checks) is reproduced by letting the
    checks miss the first import; the database's unique key must then hold, without a 500.
    """
    from tracker.catalogue import services as catalogue_services
    from tracker.imports import forms

    text = _fixture("second_document.txt")
    assert client.post("/imports/confirm", data={**SECOND, "text": text}).status_code == 302
    before = _counts()
    monkeypatch.setattr(forms, "document_by_number", lambda number: None)
    monkeypatch.setattr(catalogue_services, "_new_document_problems", lambda *args: [])
    response = client.post("/imports/confirm", data={**SECOND, "text": text})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    number = re.search(r'<div class="field[^"]*has-error">.*?</div>', page, re.S).group(0)
    assert 'name="number"' in number and f"文号「{SECOND['number']}」刚刚已被导入" in number
    assert SECOND["title"] in page and "一、" in page  # what was sent is back in the form
    assert _counts() == before


def test_confirm_sets_the_first_period_default_or_chosen(client, coordinator, at):
    at("2026-12-02 09:00")
    preview = client.post("/imports/new", data={**SECOND, "text": _fixture("second_document.txt")})
    html = preview.get_data(as_text=True)
    assert "首个报告期" in html
    client.post("/imports/confirm", data=_confirm_data(html))
    document = db.session.scalar(
        sa.select(PolicyDocument).where(PolicyDocument.number == SECOND["number"])
    )
    assert document.first_period == "2026Q4"  # the import quarter

    other = {**SECOND, "number": "民发〔2024〕99号", "first_period": "2026Q3"}
    preview = client.post("/imports/new", data={**other, "text": _fixture("second_document.txt")})
    html = preview.get_data(as_text=True)
    data = {**_confirm_data(html), "first_period": _hidden(html, "first_period")}
    client.post("/imports/confirm", data=data)
    document = db.session.scalar(
        sa.select(PolicyDocument).where(PolicyDocument.number == other["number"])
    )
    assert document.first_period == "2026Q3"


def test_a_duplicate_number_keeps_everything_typed_beside_the_number(client, coordinator):
    before = _counts()
    text = _fixture("second_document.txt")
    data = {**SECOND, "number": SEED_NUMBER, "first_period": "2024Q1", "text": text}

    response = client.post("/imports/new", data=data)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    number = re.search(r'<div class="field[^"]*has-error">.*?</div>', page, re.S).group(0)
    assert f'value="{SEED_NUMBER}"' in number and 'aria-describedby="number-error"' in number
    assert f"文号为「{SEED_NUMBER}」的文件已经导入，不能重复导入" in number
    for name in ("title", "issuer", "issued", "first_period"):
        assert f'value="{data[name]}"' in page
    textarea = re.search(r'<textarea[^>]*name="text"[^>]*>\r?\n?(.*?)</textarea>', page, re.S)
    assert html_module.unescape(textarea.group(1)) == text
    assert _counts() == before


def test_an_uploaded_file_read_before_a_refusal_comes_back_as_text(client, coordinator):
    content = _fixture("second_document.txt")

    response = client.post("/imports/new", data=_upload(content.encode(), title=""))

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请输入文件标题" in page
    textarea = re.search(r'<textarea[^>]*name="text"[^>]*>\r?\n?(.*?)</textarea>', page, re.S)
    assert html_module.unescape(textarea.group(1)) == content
