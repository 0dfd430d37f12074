"""The import page offers an administrator to create a department the attachment names and
the database lacks: what will be created is shown, confirmed, audited, and the same attachment
is previewed again without uploading it; others see the refusal as before."""

from __future__ import annotations

import io
from html.parser import HTMLParser

import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.catalogue.models import Assignment, Department, PolicyDocument, Role
from tracker.extensions import db

SECOND = {
    "number": "民办函〔2024〕12号",
    "title": "关于进一步做好农村留守妇女关爱服务工作的通知",
    "issuer": "民政部办公厅",
    "issued": "2024-03-15",
}
TEXT = (
    "附件\n任务分工\n"
    "一、开展农村留守妇女专项统计调查。（国家统计局牵头，民政部、全国妇联按照职责分工负责）\n"
    "二、做好农村留守妇女法律援助工作。（司法部牵头，国家信访局配合）\n"
)


class _Forms(HTMLParser):
    """Every form of a page: its action and the inputs it would send."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form":
            self.forms.append((values.get("action") or "", {}))
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1][1][values["name"]] = values.get("value") or ""


def _forms(html: str, action: str) -> list[dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    return [fields for target, fields in parser.forms if target == action]


def _departments() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Department))


def _preview(client, text: str = TEXT):
    return client.post("/imports/new", data={**SECOND, "text": text})


def test_an_admin_is_offered_each_missing_department_with_what_would_be_created(
    client, seeded, make_user, login
):
    login(make_user("admin"))
    html = _preview(client).get_data(as_text=True)

    section = html.split('id="missing-departments"')[1].split("</section>")[0]
    assert "文件中有 2 个系统中没有的部门" in section
    first = section.split('data-department="国家统计局"')[1].split("</tr>")[0]
    cells = "<td><code>dept14</code></td>\n        <td>国家统计局</td>\n        <td>国家统计局</td>"
    assert cells in first
    second = section.split('data-department="国家信访局"')[1].split("</tr>")[0]
    assert "<code>dept15</code>" in second
    assert "第1项：无法识别的部门「国家统计局」" in html  # the problems are still listed
    assert 'action="/imports/confirm"' not in html  # nothing can be imported yet
    offers = _forms(html, "/imports/department")
    assert [o["department_name"] for o in offers] == ["国家统计局", "国家信访局"]
    assert offers[0]["text"].replace("\r\n", "\n") == TEXT
    assert _departments() == 13


def test_creating_a_missing_department_confirms_then_continues_the_same_import(
    client, seeded, make_user, login
):
    admin = make_user("admin")
    login(admin)
    offer = _forms(_preview(client).get_data(as_text=True), "/imports/department")[0]

    asked = client.post("/imports/department", data=offer)

    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'data-testid="confirmation"' in page
    assert "新建部门「国家统计局」：代码 dept14，全称 国家统计局，简称 国家统计局，没有别称" in page
    assert "无需重新上传" in page
    assert _departments() == 13  # nothing before the confirmation
    (confirmed,) = _forms(page, "/imports/department")
    assert confirmed["confirm"] == "1" and confirmed["text"].replace("\r\n", "\n") == TEXT

    done = client.post("/imports/department", data=confirmed)

    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "已新建部门「国家统计局」（代码 dept14），请继续核对预览。" in html
    dept = db.session.scalar(sa.select(Department).where(Department.code == "dept14"))
    assert (dept.name, dept.short_name, dept.aliases, dept.active) == (
        "国家统计局", "国家统计局", [], True
    )  # fmt: skip
    (event,) = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "department.create_from_import")
    )
    assert event.actor_id == admin.id and event.object_id == dept.id
    # the same attachment, previewed again: one department is still missing
    assert "第1项：无法识别的部门「国家统计局」" not in html
    assert "第2项：无法识别的部门「国家信访局」" in html
    (offer,) = _forms(html, "/imports/department")
    assert offer["department_code"] == "dept15"
    assert 'value="民办函〔2024〕12号"' in html  # the document's fields are kept below

    confirmed = {**offer, "confirm": "1"}
    html = client.post("/imports/department", data=confirmed).get_data(as_text=True)
    (final,) = _forms(html, "/imports/confirm")
    imported = client.post("/imports/confirm", data=final)
    assert imported.status_code == 302
    document = db.session.scalar(
        sa.select(PolicyDocument).where(PolicyDocument.number == SECOND["number"])
    )
    leads = db.session.scalars(
        sa.select(Department.code)
        .join(Assignment, Assignment.department_id == Department.id)
        .where(Assignment.role == Role.LEAD)
        .where(Assignment.task_id.in_([t.id for t in document.tasks]))
    )
    assert sorted(leads) == ["dept14", "moj"]


def test_an_uploaded_file_needs_no_second_upload(client, seeded, make_user, login):
    login(make_user("admin"))
    upload = {**SECOND, "file": (io.BytesIO(TEXT.encode("gb18030")), "fengong.txt")}
    html = client.post("/imports/new", data=upload).get_data(as_text=True)
    offer = _forms(html, "/imports/department")[0]
    html = client.post("/imports/department", data={**offer, "confirm": "1"}).get_data(as_text=True)
    assert "已新建部门「国家统计局」" in html
    assert _forms(html, "/imports/department")[0]["text"].replace("\r\n", "\n") == TEXT


def test_a_coordinator_sees_the_refusal_and_may_not_create(client, seeded, make_user, login):
    admin = make_user("admin")
    login(admin)
    offer = _forms(_preview(client).get_data(as_text=True), "/imports/department")[0]
    del offer["csrf_token"]  # the administrator's: a new sign-in starts a new session
    login(make_user("coordinator"))

    html = _preview(client).get_data(as_text=True)

    assert "第1项：无法识别的部门「国家统计局」" in html
    assert 'id="missing-departments"' not in html and "/imports/department" not in html
    assert client.post("/imports/department", data={**offer, "confirm": "1"}).status_code == 403
    assert _departments() == 13


def test_a_department_created_meanwhile_is_refused_with_the_preview_again(
    client, seeded, make_user, login
):
    from tracker.catalogue.services import DepartmentInput, create_department

    login(make_user("admin"))
    offer = _forms(_preview(client).get_data(as_text=True), "/imports/department")[0]
    create_department("nbs", DepartmentInput("国家统计局"))
    db.session.commit()

    response = client.post("/imports/department", data={**offer, "confirm": "1"})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "未新建部门：部门全称「国家统计局」已是部门「国家统计局」的全称" in html
    assert 'id="preview"' in html and "国家信访局" in html
    assert _departments() == 14


def test_a_tampered_offer_is_refused_without_writing(client, seeded, make_user, login):
    login(make_user("admin"))
    offer = _forms(_preview(client).get_data(as_text=True), "/imports/department")[0]
    for change in ({"department_code": "Bad Code"}, {"department_name": "民政部"},
                   {"department_name": ""}, {"text": ""}):  # fmt: skip
        response = client.post("/imports/department", data={**offer, **change, "confirm": "1"})
        assert response.status_code == 422, change
    assert _departments() == 13


def test_a_document_naming_an_inactive_department_is_refused(client, seeded, make_user, login):
    from tracker.catalogue.services import deactivate_department

    deactivate_department(db.session.scalar(sa.select(Department).where(Department.code == "cdpf")))
    db.session.commit()
    login(make_user("admin"))
    text = "一、开展助残服务。（中国残联牵头）\n二、关爱服务。（各部门按照职责分工负责）\n"
    html = _preview(client, text).get_data(as_text=True)
    assert "第1项：部门「中国残联」已停用，不能分配新任务" in html
    assert 'id="missing-departments"' not in html

    # 各部门 binds only the active departments
    html = _preview(client, "一、关爱服务。（各部门按照职责分工负责）\n").get_data(as_text=True)
    (final,) = _forms(html, "/imports/confirm")
    assert client.post("/imports/confirm", data=final).status_code == 302
    document = db.session.scalar(
        sa.select(PolicyDocument).where(PolicyDocument.number == SECOND["number"])
    )
    codes = {a.department.code for task in document.tasks for a in task.assignments}
    assert len(codes) == 12 and "cdpf" not in codes
