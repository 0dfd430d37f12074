"""The personal-data guard at every entry point: refused with the field named, the number
masked, nothing saved, the input kept."""

from __future__ import annotations

import io
import zipfile

import pytest
import sqlalchemy as sa

from tests.delivery.conftest import approved_plan, milestone, plan_form, report_form, task
from tracker.delivery.models import DeliveryPlan
from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import Evidence

VALID_ID = "11010519491231002X"
WRONG_CHECK = "110105194912310021"
MOBILE = "13812345678"


def _edit(client, login, quarter, people, **values):
    login(people["lead"])
    obligation = quarter.obligation(23, "mca")
    return client.post(f"/obligations/{obligation.id}/edit", data=report_form(**values)), obligation


@pytest.mark.parametrize(
    ("field", "label"),
    [("progress", "工作进展"), ("problems", "存在的困难和问题"), ("figures-0-name", "指标名称"),
     ("figures-0-unit", "单位")],
)  # fmt: skip
@pytest.mark.parametrize("number", [VALID_ID, MOBILE])
def test_report_text_is_refused(client, login, quarter, people, field, label, number):
    values = {field: number if field.endswith("unit") else f"联系人 {number} 已走访"}
    if field.startswith("figures"):
        values |= {"figures-0-name": values.get("figures-0-name", "走访"), "figures-0-value": "3"}
    response, obligation = _edit(client, login, quarter, people, **values)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"“{label}”中含有疑似" in page
    assert number[:3] + "*" * (len(number) - 5) + number[-2:] in page  # masked in the message
    assert page.count(number) == 1  # only in the field itself, as typed
    db.session.expire_all()
    assert obligation.report is None


@pytest.mark.parametrize("text", [WRONG_CHECK, f"9{VALID_ID}", f"2{MOBILE}", "2800 个县"])
def test_numbers_that_are_not_personal_data_are_kept(client, login, quarter, people, text):
    response, obligation = _edit(client, login, quarter, people, progress=f"编号 {text}")
    assert response.status_code == 302
    db.session.expire_all()
    assert text in obligation.report.progress


def test_a_milestone_note_is_checked(client, login, quarter, people):
    plan = approved_plan(23, "mca", people=people,
                         milestones=[milestone("完成县级摸底排查", "2024Q3", "mca")])  # fmt: skip
    key = plan.milestones[0].key
    response, obligation = _edit(client, login, quarter, people, **{
        f"milestone_{key}": "partly", f"milestone_{key}_note": f"请联系{MOBILE}"})  # fmt: skip
    assert response.status_code == 422
    assert "“情况说明（完成县级摸底排查）”中含有疑似手机号码" in response.get_data(as_text=True)
    db.session.expire_all()
    assert obligation.report is None


def test_the_service_refuses_what_the_api_would_send(quarter, people):
    from tracker.errors import Invalid

    obligation = quarter.obligation(23, "mca")
    with pytest.raises(Invalid) as refused:
        services.save_draft(obligation, services.ReportInput(progress=f"身份证{VALID_ID}"),
                            actor=people["lead"], expected_version=None)  # fmt: skip
    assert refused.value.field == "progress" and VALID_ID not in refused.value.message
    db.session.rollback()


@pytest.mark.parametrize(
    ("field", "label"),
    [("milestones-0-title", "节点内容"), ("indicators-0-name", "指标名称"),
     ("indicators-0-unit", "单位")],
)  # fmt: skip
def test_plan_text_is_refused(client, login, people, field, label):
    login(people["lead"])
    item = task(23)
    data = plan_form(**{field: f"台账{VALID_ID}"})
    response = client.post(f"/delivery/tasks/{item.id}/plan", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"“{label}”中含有疑似身份证号码（110*************2X）" in page
    assert f'value="台账{VALID_ID}"' in page  # kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryPlan)) == 0


def test_a_change_reason_and_a_return_reason_are_checked(client, login, people):
    item = task(23)
    login(people["lead"])
    assert client.post(f"/delivery/tasks/{item.id}/plan", data=plan_form()).status_code == 302
    plan = db.session.scalar(sa.select(DeliveryPlan))
    login(people["coordinator"])
    response = client.post(f"/delivery/plans/{plan.id}/return", data={"reason": f"问{MOBILE}"})
    assert response.status_code == 422
    assert "“退回理由”中含有疑似手机号码" in response.get_data(as_text=True)
    db.session.expire_all()
    assert plan.state.value == "proposed"
    assert client.post(f"/delivery/plans/{plan.id}/approve").status_code == 302
    login(people["lead"])
    response = client.post(f"/delivery/tasks/{item.id}/plan",
                           data=plan_form(change_reason=f"按{MOBILE}的意见调整"))  # fmt: skip
    assert response.status_code == 422
    assert "“变更理由”中含有疑似手机号码" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryPlan)) == 1


def _zip(parts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


TYPES = '<Types><Default Extension="xml" ContentType="application/xml"/></Types>'


def _docx(body: str) -> bytes:
    return _zip(
        {"[Content_Types].xml": TYPES, "word/document.xml": f"<w:document>{body}</w:document>"}
    )


def _xlsx(sheet: str, strings: str = "<sst/>") -> bytes:
    return _zip({"[Content_Types].xml": TYPES, "xl/workbook.xml": "<workbook/>",
                 "xl/sharedStrings.xml": strings, "xl/worksheets/sheet1.xml": sheet})  # fmt: skip


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_UPLOAD_DIR", str(tmp_path / "uploads"))


@pytest.mark.parametrize(
    ("name", "data", "refused"),
    [
        # a number split over two runs of one paragraph is read whole
        (
            "a.docx",
            _docx("<w:p><w:r><w:t>电话1381234</w:t></w:r><w:r><w:t>5678</w:t></w:r></w:p>"),
            True,
        ),
        ("b.docx", _docx(f"<w:p><w:r><w:t>身份证 {VALID_ID}</w:t></w:r></w:p>"), True),
        ("c.docx", _docx(f"<w:p><w:r><w:t>编号 {WRONG_CHECK}</w:t></w:r></w:p>"), False),
        ("d.xlsx", _xlsx(f'<sheetData><row><c t="n"><v>{MOBILE}</v></c></row></sheetData>'), True),
        ("e.xlsx", _xlsx("<sheetData/>", f"<sst><si><t>{VALID_ID}</t></si></sst>"), True),
        # two cells side by side never join into one number
        (
            "f.xlsx",
            _xlsx("<sheetData><row><c><v>138123</v></c><c><v>45678</v></c></row></sheetData>"),
            False,
        ),
    ],
)
def test_office_evidence_is_read_for_personal_data(client, login, quarter, people, uploads, name,
                                                   data, refused):  # fmt: skip
    response, obligation = _edit(client, login, quarter, people)
    assert response.status_code == 302
    response = client.post(f"/obligations/{obligation.id}/evidence",
                           data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")  # fmt: skip
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Evidence))
    if refused:
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert (
            "佐证材料不得含有个人身份信息" in page and MOBILE not in page and VALID_ID not in page
        )
        assert count == 0
    else:
        assert response.status_code == 302
        assert count == 1
