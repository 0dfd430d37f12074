"""The county list: imported from CSV or .xlsx (command and page), idempotent, refused as a
whole with every problem named; county accounts get a county scope; 三员分立 still holds."""

from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from tests.counties.conftest import county, workbook_bytes
from tracker.audit.models import AuditEvent
from tracker.counties.models import County, CountyAccount
from tracker.extensions import db

CSV = "区划代码,名称,地市\n130102,长安区,石家庄市\n130104,桥西区,石家庄市\n"


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(County.id)))


def test_command_imports_idempotently_and_updates(seeded, runner, tmp_path):
    path = tmp_path / "counties.csv"
    path.write_text(CSV, encoding="utf-8")
    result = runner.invoke(args=["counties", "import", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert "新增 2 个" in result.output
    again = runner.invoke(args=["counties", "import", "--file", str(path)])
    assert "新增 0 个，更新 0 个，未变 2 个" in again.output
    path.write_text(CSV.replace("桥西区,石家庄市", "桥西区,石家庄"), encoding="utf-8")
    changed = runner.invoke(args=["counties", "import", "--file", str(path)])
    assert "更新 1 个" in changed.output
    db.session.expire_all()
    assert county("130104").prefecture == "石家庄"
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("county.create") == 2 and actions.count("county.update") == 1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("13010,短码县,", "第3行：区划代码“13010”应为 6 位数字"),
        ("130100,市辖区,", "以 00 结尾"),
        ("130102,重复县,", "与第2行重复"),
        (",无码县,", "应为 6 位数字"),
        ("130199,,", "第3行：名称不能为空"),
        ("130199,联系13812345678,", "手机号码"),
    ],
)
def test_a_bad_row_refuses_the_whole_file(seeded, runner, tmp_path, line, message):
    path = tmp_path / "counties.csv"
    path.write_text("区划代码,名称,地市\n130102,长安区,石家庄市\n" + line + "\n", encoding="utf-8")
    result = runner.invoke(args=["counties", "import", "--file", str(path)])
    assert result.exit_code != 0
    assert message in result.output
    assert "未导入任何县" in result.output
    assert _count() == 0  # the valid row was not saved either


def test_admin_imports_an_xlsx_on_the_page(seeded, make_user, client, login):
    book = openpyxl.Workbook()
    book.active.append(["区划代码", "名称", "地市"])
    book.active.append(["130202", "路南区", "唐山市"])
    book.active.append([130203, "路北区", None])  # a number cell is read as its digits
    login(make_user("admin"))
    response = client.post(
        "/counties/import",
        data={"file": (io.BytesIO(workbook_bytes(book)), "县名单.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert county("130203").name == "路北区" and county("130203").prefecture is None
    page = client.get("/counties").get_data(as_text=True)
    assert "路南区" in page and "唐山市" in page


def test_refused_file_on_the_page_shows_the_problem_beside_the_field(seeded, make_user, client,
                                                                      login):  # fmt: skip
    login(make_user("admin"))
    response = client.post(
        "/counties/import",
        data={"file": (io.BytesIO("区划代码,名称\n12345X,坏县\n".encode()), "c.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="file-error"' in page and "第2行：区划代码“12345X”应为 6 位数字" in page
    assert _count() == 0


@pytest.mark.parametrize("role", ["coordinator", "security_admin", "auditor", "county"])
def test_only_the_system_administrator_keeps_the_list(seeded, make_user, client, login, role):
    login(make_user(role, "mca" if role == "coordinator" else None))
    assert client.get("/counties").status_code == 403
    response = client.post(
        "/counties/import",
        data={"file": (io.BytesIO(CSV.encode()), "c.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert _count() == 0


def test_admin_gives_a_county_account_its_county(ledger, client, login):
    people = ledger["people"]
    login(people["admin"])
    target = county("130105")
    response = client.post(
        "/counties/accounts", data={"user": str(people["chang_an"].id), "county": str(target.id)}
    )
    assert response.status_code == 302
    row = db.session.get(CountyAccount, people["chang_an"].id)
    assert row.county_id == target.id
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "county.assign")
        .order_by(AuditEvent.id.desc())
    ).first()  # fmt: skip
    assert event.before == {"county": "130102"} and event.after == {"county": "130105"}


def test_only_county_accounts_get_a_county(ledger):
    from tracker.counties.services import assign_county
    from tracker.errors import Invalid

    people = ledger["people"]
    with pytest.raises(Invalid, match="县级填报员"):
        assign_county(people["liaison"], county("130102"), actor=people["admin"])


def test_separated_administrators_still_hold(ledger, make_user):
    """The county role belongs to no department and is no administrator role; 三员分立 rules
    are untouched: an administrator may not hold a department, a county account changes
    nobody's role."""
    from tracker.auth.models import UserRole
    from tracker.auth.services import ADMINISTRATOR_ROLES, UserError, edit_user

    assert UserRole.COUNTY not in ADMINISTRATOR_ROLES
    people = ledger["people"]
    with pytest.raises(UserError):
        edit_user(people["admin"], role="county", actor=people["admin"])  # not one's own role


def test_a_county_account_belongs_to_no_department(seeded, make_user):
    from tracker.auth.services import UserError, edit_user, resolve_department

    with pytest.raises(UserError, match="县级填报员不属于任何部门"):
        make_user("county", "mca")
    account = make_user("county")
    with pytest.raises(UserError, match="县级填报员不属于任何部门"):
        edit_user(account, department=resolve_department("mca"), actor=make_user("admin"))
