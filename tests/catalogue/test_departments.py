"""Department management: create, rename (the old name stays an alias), reorder, deactivate
(never with open obligations; its accounts go with it) and reactivate, on the web and with
``flask department``; what an inactive department means for periods, forms and the seed."""

from __future__ import annotations

import io
import re

import openpyxl
import sqlalchemy as sa

from tests.conftest import _seed_catalogue
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.catalogue.models import Assignment, Department
from tracker.catalogue.services import apply_seed
from tracker.extensions import db
from tracker.reports.models import Obligation, ProgressStatus
from tracker.reports.services import ReportInput


def _dept(code: str) -> Department:
    db.session.expire_all()
    found = db.session.scalar(sa.select(Department).where(Department.code == code))
    assert found is not None
    return found


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


NEW = {"code": "nbs", "name": "国家统计局", "short_name": "统计局", "aliases": "统计局、国统局"}


# -- creating ----------------------------------------------------------------------------------


def test_an_admin_creates_a_department_audited(client, seeded, make_user, login):
    admin = make_user("admin")
    login(admin)
    assert client.get("/departments/new").status_code == 200

    response = client.post("/departments/new", data={**NEW, "position": "20"})

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/departments/nbs")
    dept = _dept("nbs")
    assert (dept.name, dept.short_name) == ("国家统计局", "统计局")
    assert dept.aliases == ["统计局", "国统局"]
    assert dept.active and dept.managed and dept.position == 20
    (event,) = _events("department.create")[-1:]
    assert event.actor_id == admin.id and event.object_id == dept.id
    assert event.after["name"] == "国家统计局"
    page = client.get("/departments").get_data(as_text=True)
    assert 'data-code="nbs"' in page


def test_a_new_department_without_position_goes_last(client, seeded, make_user, login):
    login(make_user("admin"))
    client.post("/departments/new", data={"code": "nbs", "name": "国家统计局"})
    dept = _dept("nbs")
    assert dept.short_name == "国家统计局"  # none given: the full name
    assert dept.position > max(d.position for d in db.session.scalars(
        sa.select(Department).where(Department.code != "nbs")))  # fmt: skip


def test_names_stay_unique_among_names_short_names_aliases_and_codes(
    client, seeded, make_user, login
):
    login(make_user("admin"))
    before = (_count(Department), _count(AuditEvent))
    cases = [
        ({**NEW, "code": "mca"}, "部门代码「mca」已被「民政部」使用"),
        ({**NEW, "name": "民政部"}, "部门全称「民政部」已是部门「民政部」的全称"),
        ({**NEW, "name": "人社部"}, "部门全称「人社部」已是部门「人力资源社会保障部」的简称或别称"),
        ({**NEW, "short_name": "卫健委"}, "简称「卫健委」已是部门「国家卫生健康委」的简称或别称"),
        ({**NEW, "aliases": "统计局、农业部"}, "别称「农业部」已是部门「农业农村部」的简称或别称"),
        ({**NEW, "name": "mof"}, "部门全称「mof」已是部门「财政部」的代码"),
        ({**NEW, "code": "NBS 1"}, "部门代码只能含小写字母"),
        ({**NEW, "name": ""}, "请填写部门全称"),
        ({**NEW, "position": "第一"}, "排序号应为 0 到 9999 之间的整数"),
        ({**NEW, "position": "-1"}, "排序号应为 0 到 9999 之间的整数"),
    ]
    for data, message in cases:
        response = client.post("/departments/new", data=data)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, data
        assert message in html, (message, data)
        # what was typed is still there
        assert f'value="{data["code"]}"' in html
        assert data["aliases"] in html
    assert (_count(Department), _count(AuditEvent)) == before


def test_only_administrators_change_departments(client, seeded, make_user, login):
    for role in ("coordinator", "liaison", "viewer"):
        login(make_user(role, "mps" if role == "liaison" else None))
        assert client.post("/departments/new", data=NEW).status_code == 403
        assert client.post("/departments/mps/edit", data={"name": "公安部门"}).status_code == 403
        assert client.post("/departments/mps/deactivate").status_code == 403
        page = client.get("/departments/mps").get_data(as_text=True) if role != "liaison" else ""
        assert "deactivate-department" not in page
    assert _dept("mps").name == "公安部" and _dept("mps").active
    assert _count(Department) == 13


# -- renaming ----------------------------------------------------------------------------------


def test_renaming_keeps_the_old_name_as_an_alias(client, seeded, make_user, login):
    admin = make_user("admin")
    login(admin)
    page = client.get("/departments/mohrss/edit").get_data(as_text=True)
    assert "人社部、人力资源和社会保障部" in page  # the aliases, ready to edit

    response = client.post(
        "/departments/mohrss/edit",
        data={"name": "人力资源部", "short_name": "人资部", "aliases": "人社部", "position": "3"},
        follow_redirects=True,
    )

    html = response.get_data(as_text=True)
    assert "已将「人力资源社会保障部」改名为「人力资源部」；旧名称保留为别称。" in html
    dept = _dept("mohrss")
    assert (dept.name, dept.short_name, dept.position) == ("人力资源部", "人资部", 3)
    assert dept.aliases == ["人社部", "人力资源社会保障部"]
    assert dept.managed
    (event,) = _events("department.edit")
    assert event.before["name"] == "人力资源社会保障部" and event.after["name"] == "人力资源部"
    assert event.actor_id == admin.id


def test_a_rename_to_another_departments_alias_is_refused_and_the_input_kept(
    client, seeded, make_user, login
):
    login(make_user("admin"))
    response = client.post(
        "/departments/mps/edit", data={"name": "妇联", "short_name": "公安", "aliases": "公安机关"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "部门全称「妇联」已是部门「全国妇联」的简称或别称，一个名称只能指向一个部门" in html
    assert 'value="妇联"' in html and 'value="公安"' in html and "公安机关" in html
    dept = _dept("mps")
    assert (dept.name, dept.aliases, dept.managed) == ("公安部", [], False)
    assert _events("department.edit") == []


def test_an_edit_that_changes_nothing_records_nothing(client, seeded, make_user, login):
    login(make_user("admin"))
    dept = _dept("moa")
    data = {"name": dept.name, "short_name": dept.short_name, "aliases": "农业部"}
    html = client.post("/departments/moa/edit", data=data, follow_redirects=True).get_data(
        as_text=True
    )
    assert "没有修改任何内容。" in html
    assert _events("department.edit") == [] and not _dept("moa").managed


def test_a_renamed_department_still_imports_under_its_old_name(client, seeded, make_user, login):
    from tracker.imports.queries import preview_attachment

    login(make_user("admin"))
    client.post("/departments/mps/edit", data={"name": "公安部门", "short_name": "公安部门"})
    result = preview_attachment("一、维护治安。（公安部牵头）")
    assert result.ok, result.problems
    assert result.items[0].lead == ["公安部门"]


# -- deactivating ------------------------------------------------------------------------------


def test_deactivation_is_refused_while_obligations_are_open(client, quarter, make_user, login):
    login(make_user("admin"))
    before = _count(AuditEvent)

    response = client.post("/departments/mps/deactivate", follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "「公安部」还有 2 项未办结的填报任务（报告未审核通过，也未免报），不能停用" in html
    assert "2024年第三季度 民发〔2019〕86号第11项（未填报）" in html
    assert "2024年第三季度 民发〔2019〕86号第22项（未填报）" in html
    assert 'data-testid="confirmation"' not in html
    assert _dept("mps").active and _count(AuditEvent) == before
    # a confirmed POST sent anyway (a stale page) is refused the same way
    client.post("/departments/mps/deactivate", data={"confirm": "1"})
    assert _dept("mps").active and _count(AuditEvent) == before


def _close_obligations(quarter, code: str, coordinator, liaison) -> None:
    from tracker.reports import services

    dept = _dept(code)
    for obligation in db.session.scalars(
        sa.select(Obligation).where(Obligation.department_id == dept.id)
    ):
        report = services.save_draft(
            obligation,
            ReportInput(status=ProgressStatus.IN_PROGRESS, progress="已部署。"),
            actor=liaison,
            expected_version=None,
        )
        services.submit_report(report, actor=liaison)
        services.accept_report(report, actor=coordinator)
    db.session.commit()


def test_a_department_whose_obligations_are_all_accepted_is_deactivated_after_confirmation(
    client, quarter, make_user, login
):
    admin = make_user("admin")
    liaison = make_user("liaison", "sport", display_name="张教练")
    viewer = make_user("viewer", "sport", display_name="李处长")
    other = make_user("liaison", "moj")
    _close_obligations(quarter, "sport", make_user("coordinator"), liaison)
    login(admin)

    first = client.post("/departments/sport/deactivate")

    page = first.get_data(as_text=True)
    assert first.status_code == 200 and 'data-testid="confirmation"' in page
    assert "将「国家体育总局」标为已停用" in page
    assert "同时停用它的 2 个启用中的账号" in page
    assert f"张教练（{liaison.username}，联络员）" in page and "李处长" in page
    assert 'name="confirm" value="1"' in page and 'href="/departments/sport"' in page
    assert _dept("sport").active  # nothing written before the confirmation

    done = client.post(
        "/departments/sport/deactivate", data={"confirm": "1"}, follow_redirects=True
    )

    assert "已停用「国家体育总局」，并停用其 2 个账号。" in done.get_data(as_text=True)
    dept = _dept("sport")
    assert not dept.active and dept.managed
    accounts = {u.id: u.active for u in db.session.scalars(sa.select(User))}
    assert accounts[liaison.id] is False and accounts[viewer.id] is False
    assert accounts[other.id] is True and accounts[admin.id] is True
    assert len(_events("department.deactivate")) == 1
    deactivated = [e for e in _events("user.deactivate") if e.after.get("with_department")]
    assert {e.object_id for e in deactivated} == {liaison.id, viewer.id}
    assert all(e.actor_id == admin.id for e in deactivated)


def test_a_department_without_accounts_says_so(client, seeded, make_user, login):
    login(make_user("admin"))
    page = client.post("/departments/cdpf/deactivate").get_data(as_text=True)
    assert "它没有启用中的账号。" in page


def test_an_admin_cannot_deactivate_their_own_department_with_their_account(
    client, seeded, make_user, login
):
    # Administrators belong to no department now; one made before that rule still may.
    admin = make_user("admin")
    admin.department = _dept("cdpf")
    db.session.commit()
    login(admin)
    html = client.post(
        "/departments/cdpf/deactivate", data={"confirm": "1"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "您的账号属于「中国残联」，不能随部门停用自己的账号。" in html
    assert _dept("cdpf").active and _events("department.deactivate") == []


def test_reactivating_brings_the_department_back_but_not_its_accounts(
    client, seeded, make_user, login
):
    liaison = make_user("liaison", "cdpf")
    login(make_user("admin"))
    client.post("/departments/cdpf/deactivate", data={"confirm": "1"})
    page = client.get("/departments/cdpf").get_data(as_text=True)
    assert 'id="department-inactive"' in page and "activate-department" in page
    listing = client.get("/departments").get_data(as_text=True)
    row = listing.split('data-code="cdpf"')[1].split("</tr>")[0]
    assert 'class="inactive"' in listing.split('data-code="cdpf"')[1][:30] and "已停用" in row

    html = client.post("/departments/cdpf/activate", follow_redirects=True).get_data(as_text=True)

    assert "已重新启用「中国残联」" in html
    assert _dept("cdpf").active
    assert db.session.get(User, liaison.id).active is False
    assert len(_events("department.activate")) == 1


# -- what an inactive department means ---------------------------------------------------------


def _deactivate(code: str) -> None:
    from tracker.catalogue.services import deactivate_department

    deactivate_department(_dept(code))
    db.session.commit()


def test_opening_a_period_skips_inactive_departments(app, seeded, monkeypatch):
    from tracker.periods import Period
    from tracker.reports import services

    monkeypatch.setitem(app.config, "TRACKER_FIRST_PERIOD", "2024Q3")
    _deactivate("cdpf")
    created = services.open_period(Period(2024, 3))
    db.session.commit()
    cdpf = _dept("cdpf")
    assignments = _count(Assignment)
    cdpf_assignments = db.session.scalar(
        sa.select(sa.func.count()).where(Assignment.department_id == cdpf.id)
    )
    assert cdpf_assignments > 0
    assert created == assignments - cdpf_assignments
    assert not db.session.scalar(
        sa.select(sa.func.count()).where(Obligation.department_id == cdpf.id)
    )


def test_an_inactive_departments_past_obligations_stay(client, quarter, make_user, login):
    liaison = make_user("liaison", "cdpf")
    _close_obligations(quarter, "cdpf", make_user("coordinator"), liaison)
    cdpf = _dept("cdpf")
    kept = db.session.scalar(sa.select(sa.func.count()).where(Obligation.department_id == cdpf.id))
    _deactivate("cdpf")
    assert kept and kept == db.session.scalar(
        sa.select(sa.func.count()).where(Obligation.department_id == cdpf.id)
    )
    login(make_user("coordinator"))
    html = client.get("/dashboard?period=2024Q3").get_data(as_text=True)
    cells = re.findall(r'<td class="cell" data-department="cdpf">(.*?)</td>', html, re.S)
    rated = [cell for cell in cells if "data-rag=" in cell]
    assert len(rated) == kept and all('data-rag="green"' in cell for cell in rated)
    workbook = client.get("/exports/quarterly.xlsx?period=2024Q3")
    rows = [
        row
        for row in openpyxl.load_workbook(io.BytesIO(workbook.data))["报告明细"].iter_rows(
            min_row=3, values_only=True
        )
        if "中国残联" in row
    ]
    assert len(rows) == kept


def test_inactive_departments_are_not_offered_for_new_accounts(client, seeded, make_user, login):
    from tracker.auth.services import UserError, create_user, edit_user

    old = make_user("liaison", "cdpf")
    _deactivate("cdpf")
    login(make_user("admin"))
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'value="cdpf"' not in page and 'value="mps"' in page
    # an account of the department keeps it offered on its own edit page
    edit = client.get(f"/admin/users/{old.id}/edit").get_data(as_text=True)
    assert '<option selected value="cdpf">中国残联（已停用）</option>' in edit
    # a tampered form, the CLI and the service refuse it
    response = client.post(
        "/admin/users", data={"username": "new1", "role": "liaison", "department": "cdpf"}
    )
    assert response.status_code == 422
    assert db.session.scalar(sa.select(User).where(User.username == "new1")) is None
    cdpf = _dept("cdpf")
    try:
        create_user("new2", role="liaison", password="Xx-12345678", department=cdpf)
    except UserError as error:
        assert error.message == "部门「中国残联」已停用，不能再为它分配账号"
    else:
        raise AssertionError("an account was created for an inactive department")
    other = make_user("liaison", "mps")
    try:
        edit_user(other, department=cdpf)
    except UserError as error:
        assert "已停用" in error.message
    else:
        raise AssertionError("an account was moved to an inactive department")
    db.session.rollback()
    assert edit_user(old, display_name="新名字") is True  # its own department may stay


def test_the_task_filter_marks_inactive_departments(client, seeded, make_user, login):
    _deactivate("cdpf")
    login(make_user("viewer"))
    html = client.get("/tasks").get_data(as_text=True)
    assert "中国残联（已停用）" in html


# -- the seed ----------------------------------------------------------------------------------


def test_the_seed_never_renames_or_reactivates_an_administrators_department(
    client, seeded, make_user, login
):
    login(make_user("admin"))
    client.post("/departments/mps/edit", data={"name": "公安部门", "short_name": "公安"})
    client.post("/departments/cdpf/deactivate", data={"confirm": "1"})
    db.session.expire_all()

    summary = apply_seed(_seed_catalogue())
    db.session.commit()

    mps, cdpf = _dept("mps"), _dept("cdpf")
    assert (mps.name, mps.short_name, mps.aliases) == ("公安部门", "公安", ["公安部"])
    assert not cdpf.active
    assert "department" not in summary.updated


def test_the_seed_still_updates_a_department_nobody_changed(seeded):
    catalogue = _seed_catalogue()
    next(d for d in catalogue.departments if d.code == "moj").aliases = ["司法行政部门"]
    summary = apply_seed(catalogue)
    db.session.commit()
    assert summary.updated == {"department": 1}
    assert _dept("moj").aliases == ["司法行政部门"]


def test_the_seed_refuses_a_new_department_whose_name_an_administrator_gave_another(seeded):
    from tracker.catalogue.seedfile import SeedDepartment
    from tracker.catalogue.services import CatalogueError, DepartmentInput, create_department

    create_department("nbs", DepartmentInput("国家统计局"))
    db.session.commit()
    catalogue = _seed_catalogue()
    catalogue.departments.append(SeedDepartment("stats", "国家统计局", "统计局", [], 20))
    try:
        apply_seed(catalogue)
    except CatalogueError as error:
        assert error.problems == ["部门「国家统计局」（stats）：该名称已属于部门「nbs」，未新建"]
    else:
        raise AssertionError("the seed created a second 国家统计局")
    db.session.rollback()
    assert _count(Department) == 14


# -- the command line --------------------------------------------------------------------------


def test_flask_department_create_edit_deactivate_activate(runner, seeded, make_user):
    liaison = make_user("liaison", "cdpf")
    result = runner.invoke(
        args=["department", "create", "nbs", "国家统计局", "--short-name", "统计局",
              "--alias", "国统局"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "已新建部门 nbs：国家统计局（简称 统计局）" in result.output

    result = runner.invoke(args=["department", "create", "x1", "国统局"])
    assert result.exit_code == 1
    assert "部门全称「国统局」已是部门「国家统计局」的简称或别称" in result.output

    result = runner.invoke(args=["department", "edit", "nbs", "--name", "国家统计总局"])
    assert result.exit_code == 0, result.output
    assert _dept("nbs").aliases == ["国统局", "国家统计局"]

    result = runner.invoke(args=["department", "deactivate", "cdpf"], input="n\n")
    assert result.exit_code == 1 and _dept("cdpf").active
    assert f"将同时停用它的 1 个启用中的账号：{liaison.username}" in result.output

    result = runner.invoke(args=["department", "deactivate", "cdpf", "--yes"])
    assert result.exit_code == 0, result.output
    assert not _dept("cdpf").active
    assert db.session.get(User, liaison.id).active is False

    listing = runner.invoke(args=["department", "list"]).output
    assert "cdpf\t中国残联\t中国残联\t残联、中国残疾人联合会\t" in listing and "已停用" in listing

    result = runner.invoke(args=["department", "activate", "cdpf"])
    assert result.exit_code == 0 and _dept("cdpf").active
    actions = [e.action for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]
    for action in ("department.create", "department.edit", "department.deactivate",
                   "department.activate"):  # fmt: skip
        assert action in actions


def test_flask_department_deactivate_refuses_open_obligations(runner, quarter):
    result = runner.invoke(args=["department", "deactivate", "mps", "--yes"])
    assert result.exit_code == 1
    assert "还有 2 项未办结的填报任务" in result.output
    assert _dept("mps").active
    result = runner.invoke(args=["department", "edit", "nope", "--name", "x"])
    assert result.exit_code == 1 and "没有代码为「nope」的部门" in result.output
