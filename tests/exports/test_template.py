"""The department template: download, fill in offline, upload; bad files refused precisely."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa
import xlsxwriter

from tests.exports.conftest import data_rows, load
from tracker.audit.models import AuditEvent
from tracker.exports import template
from tracker.exports.template import HEADERS, MAX_UPLOAD_BYTES, SHEET_TITLE
from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import KeyFigure, ProgressStatus, Report, ReportState, ReportVersion
from tracker.reports.services import ReportInput

STATUS, PROGRESS, PROBLEMS, FIGURES = (
    HEADERS.index(h) + 1 for h in ("自评状态", "工作进展", "存在的困难和问题", "关键数据")
)


@pytest.fixture
def liaison(quarter, people, login):
    login(people["mps"])
    return people["mps"]


def download(client, period="2024Q3") -> bytes:
    response = client.get(f"/exports/template.xlsx?period={period}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return response.data


def upload(client, data: bytes, filename: str = "填报模板.xlsx"):
    return client.post(
        "/exports/template/upload?period=2024Q3",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def edit(data: bytes, changes: dict[tuple[int, int], object], sheet: str = SHEET_TITLE) -> bytes:
    """Fill cells as a liaison would in Excel, and save.

    The input cells are formatted as text, so Excel keeps a typed "=…" as text: set the cell's
    type the same way (openpyxl alone would make it a formula).
    """
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[sheet]
    for (row, column), value in changes.items():
        cell = ws.cell(row, column)
        cell.value = value
        if isinstance(value, str) and cell.number_format == "@":
            cell.data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def row_of(data: bytes, number: int) -> int:
    ws = load(data)[SHEET_TITLE]
    return next(
        r[0].row for r in ws.iter_rows(min_row=3) if r[HEADERS.index("序号")].value == number
    )


def saved_state() -> tuple[int, int, int]:
    counts = [
        db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in (Report, ReportVersion, AuditEvent)
    ]
    return tuple(counts)


def problems_of(response) -> list[tuple[str, str, str]]:
    """(row, column, message) of each problem listed on the refusal page."""
    import re

    html = response.get_data(as_text=True)
    table = html.split('id="problems"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<tr><td class=\"num\">(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table)
    return cells


# -- the template ------------------------------------------------------------------------------


def test_template_lists_the_departments_obligations_with_inputs_unlocked(client, liaison):
    wb = load(download(client))
    assert wb.sheetnames == [SHEET_TITLE, template.PLAN_SHEET, template.GUIDE_TITLE]
    ws = wb[SHEET_TITLE]
    assert "公安部" in ws["A1"].value and "2024年第三季度" in ws["A1"].value
    assert [c.value for c in ws[2]] == HEADERS
    rows = data_rows(ws)
    assert [r[3] for r in rows] == [11, 22]  # 公安部 leads item 11; item 22 is everyone's
    assert all(r[1] == 0 and r[7] == "未填报" for r in rows)
    assert ws.column_dimensions["A"].hidden and ws.column_dimensions["B"].hidden
    assert ws.protection.sheet is True
    assert ws.cell(3, 5).protection.locked is True  # 工作任务
    assert ws.cell(3, HEADERS.index("审核签发") + 1).protection.locked is True
    for column in range(STATUS, len(HEADERS) + 1):
        assert ws.cell(3, column).protection.locked is False
        assert ws.cell(3, column).number_format == "@"
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    status = validations[f"K3:K{ws.max_row}"]
    assert status.type == "list" and status.formula1 == '"未启动,推进中,已完成,常态化推进"'
    length = validations[f"L3:P{ws.max_row}"]
    assert length.type == "textLength" and length.formula1 == "5000"
    assert ws.freeze_panes == "A3" and ws.page_setup.orientation == "landscape"


def test_submitted_reports_are_locked_in_the_template(client, liaison, quarter, people):
    for code in ("moj", "moa", "acwf"):
        services.waive_obligation(quarter.obligation(11, code), actor=people["coordinator"],
                                  reason="无")  # fmt: skip
    report = services.save_draft(
        quarter.obligation(11, "mps"),
        ReportInput(status=ProgressStatus.ONGOING, progress="已报送内容"),
        actor=liaison,
        expected_version=None,
    )
    services.submit_report(report, actor=liaison)
    db.session.commit()
    ws = load(download(client))[SHEET_TITLE]
    row = next(r for r in ws.iter_rows(min_row=3) if r[3].value == 11)
    assert row[7].value == "已报送待审核" and row[PROGRESS - 1].value == "已报送内容"
    assert row[STATUS - 1].value == "常态化推进" and row[1].value == report.version
    assert all(cell.protection.locked for cell in row)


def test_only_liaisons_get_templates(client, quarter, people, login):
    login(people["coordinator"])
    assert client.get("/exports/template.xlsx").status_code == 403
    assert client.get("/exports/template/upload").status_code == 403


# -- the round trip ----------------------------------------------------------------------------


def test_round_trip_creates_and_updates_drafts_and_never_submits(client, liaison, quarter):
    data = download(client)
    r11, r22 = row_of(data, 11), row_of(data, 22)
    filled = edit(data, {(r11, STATUS): "推进中", (r11, PROGRESS): "=开展专项行动 3 次",
                         (r11, PROBLEMS): "警力不足", (r22, STATUS): "未启动"})  # fmt: skip
    response = upload(client, filled)
    assert response.status_code == 302 and "/reports?period=2024Q3" in response.location
    report = quarter.obligation(11, "mps").report
    assert (report.state, report.status) == (ReportState.DRAFT, ProgressStatus.IN_PROGRESS)
    assert (report.progress, report.problems) == ("=开展专项行动 3 次", "警力不足")
    assert quarter.obligation(22, "mps").report.status == ProgressStatus.NOT_STARTED
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["report.create", "report.create", "template.upload"]
    # Download again: the drafts come back, and a second edit updates them.
    again = download(client)
    assert load(again)[SHEET_TITLE].cell(r11, PROGRESS).value == "=开展专项行动 3 次"
    assert upload(client, edit(again, {(r11, PROGRESS): "开展专项行动 4 次"})).status_code == 302
    assert quarter.obligation(11, "mps").report.progress == "开展专项行动 4 次"
    assert quarter.obligation(11, "mps").report.state == ReportState.DRAFT


def test_unchanged_upload_changes_nothing(client, liaison):
    data = download(client)
    before = saved_state()
    response = upload(client, data)
    assert response.status_code == 302
    assert saved_state()[:2] == before[:2]
    follow = client.get(response.location)
    assert "没有需要保存的修改" in follow.get_data(as_text=True)


def test_an_untouched_template_round_trips_text_that_looks_like_escapes_or_formulas(
    client, liaison, quarter
):
    """The hidden key columns and every kind of hostile text come back as they went out."""
    texts = {
        "progress": "_x0041_ 不是字母 A",
        "problems": "=cmd|' /C calc'!A0",
        "practices": "@SUM(1)",
        "suggestions": "\t=1",
        "next_steps": "-1 与 +1",
    }
    services.save_draft(
        quarter.obligation(11, "mps"), ReportInput(**texts), actor=liaison, expected_version=None
    )
    db.session.commit()
    report = quarter.obligation(11, "mps").report
    stored = {name: getattr(report, name) for name in texts}  # as the service keeps them
    assert stored["progress"] == texts["progress"] and stored["problems"] == texts["problems"]
    data = download(client)
    ws = load(data)[SHEET_TITLE]
    row = ws[row_of(data, 11)]
    assert row[0].value == quarter.obligation(11, "mps").id and row[1].value == 1
    before = saved_state()
    response = upload(client, data)
    assert response.status_code == 302
    assert saved_state()[:2] == before[:2]  # nothing differed, nothing saved
    db.session.refresh(report)
    assert {name: getattr(report, name) for name in texts} == stored


def test_key_figures_survive_a_template_update(client, liaison, quarter):
    from decimal import Decimal

    services.save_draft(
        quarter.obligation(11, "mps"),
        ReportInput(progress="初稿", figures=[("出警次数", Decimal("12"), "次")]),
        actor=liaison,
        expected_version=None,
    )
    db.session.commit()
    data = download(client)
    assert upload(client, edit(data, {(row_of(data, 11), PROGRESS): "二稿"})).status_code == 302
    report = quarter.obligation(11, "mps").report
    assert report.progress == "二稿"
    assert [(f.name, f.value, f.unit) for f in report.figures] == [
        ("出警次数", Decimal("12"), "次")
    ]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(KeyFigure)) == 1


def test_key_figures_are_carried_and_edited_in_the_template(client, liaison, quarter):
    from decimal import Decimal

    services.save_draft(
        quarter.obligation(11, "mps"),
        ReportInput(progress="初稿", figures=[("出警次数", Decimal("12"), "次"),
                                            ("覆盖率", Decimal("35.5"), "%")]),
        actor=liaison,
        expected_version=None,
    )  # fmt: skip
    db.session.commit()
    data = download(client)
    row = row_of(data, 11)
    assert load(data)[SHEET_TITLE].cell(row, FIGURES).value == "出警次数：12 次\n覆盖率：35.5 %"
    changed = "出警次数：15 次\n\n培训人次：4,200人次\n帮扶户数: 30"
    assert upload(client, edit(data, {(row, FIGURES): changed})).status_code == 302
    report = quarter.obligation(11, "mps").report
    assert [(f.name, f.value, f.unit) for f in report.figures] == [
        ("出警次数", Decimal("15"), "次"), ("培训人次", Decimal("4200"), "人次"),
        ("帮扶户数", Decimal("30"), ""),
    ]  # fmt: skip
    assert report.progress == "初稿"  # the rest of the row as it was
    # Emptying the cell removes the figures; an untouched template changes nothing.
    data = download(client)
    assert upload(client, data).status_code == 302
    assert len(quarter.obligation(11, "mps").report.figures) == 3
    assert upload(client, edit(data, {(row_of(data, 11), FIGURES): None})).status_code == 302
    assert quarter.obligation(11, "mps").report.figures == []


def test_bad_key_figures_are_refused_line_by_line(client, liaison):
    data = download(client)
    row = row_of(data, 11)
    before = saved_state()
    bad = "出警次数 十二次\n覆盖率：很多 %\n" + "：12"
    response = upload(client, edit(data, {(row, FIGURES): bad, (row, PROGRESS): "进展"}))
    assert response.status_code == 422 and saved_state() == before
    problems = [p for p in problems_of(response) if p[1] == "关键数据"]
    assert len(problems) == 3 and all("名称：数值 单位" in p[2] for p in problems), problems
    six = "\n".join(f"指标{i}：{i}" for i in range(6))
    response = upload(client, edit(data, {(row, FIGURES): six}))
    assert response.status_code == 422 and "最多 5 项关键数据" in response.get_data(as_text=True)


# -- refusals: nothing saved, every problem listed ---------------------------------------------


def test_every_problem_is_listed_by_row_and_column_and_nothing_is_saved(
    client, liaison, quarter, people
):
    data = download(client)
    r11, r22 = row_of(data, 11), row_of(data, 22)
    other = quarter.obligation(5, "mca").id  # 民政部's obligation
    bad = edit(data, {
        (r11, STATUS): "差不多完成了",
        (r11, PROGRESS): "很长" * 2501,
        (r22, 1): other,
        (r22, PROGRESS): "本行有效内容",
        (r22 + 1, 1): 999_999,
        (r22 + 1, 2): 0,
        (r22 + 1, PROGRESS): "不存在的事项",
    })  # fmt: skip
    before = saved_state()
    response = upload(client, bad)
    assert response.status_code == 422
    problems = problems_of(response)
    assert [(row, column) for row, column, _ in problems] == [
        (str(r11), "自评状态"),
        (str(r11), "工作进展"),
        (str(r22), "编号"),
        (str(r22 + 1), "编号"),
    ]
    messages = " ".join(message for _, _, message in problems)
    assert "不是有效的自评状态" in messages and "超过 5000 字（现为 5002 字）" in messages
    assert "不属于本部门" in messages and "系统中没有这个事项" in messages
    assert saved_state() == before


def test_a_report_changed_since_the_download_is_refused(client, liaison, quarter):
    data = download(client)
    services.save_draft(quarter.obligation(11, "mps"), ReportInput(progress="网页上改的"),
                        actor=liaison, expected_version=None)  # fmt: skip
    db.session.commit()
    before = saved_state()
    response = upload(client, edit(data, {(row_of(data, 11), PROGRESS): "模板里改的"}))
    assert response.status_code == 422
    [(row, _column, message)] = problems_of(response)
    assert row == str(row_of(data, 11)) and "已被修改" in message and "第 1 版" in message
    assert saved_state() == before
    assert quarter.obligation(11, "mps").report.progress == "网页上改的"


def test_a_submitted_report_cannot_be_changed_by_template(client, liaison, quarter, people):
    data = download(client)
    obligation = quarter.obligation(22, "mps")
    report = services.save_draft(
        obligation, ReportInput(status=ProgressStatus.ONGOING, progress="已报"),
        actor=liaison, expected_version=None,
    )  # fmt: skip
    services.submit_report(report, actor=liaison)
    db.session.commit()
    fresh = download(client)
    response = upload(client, edit(fresh, {(row_of(fresh, 22), PROGRESS): "报送后再改"}))
    assert response.status_code == 422
    assert "不能通过模板修改" in problems_of(response)[0][2]
    assert report.progress == "已报"
    assert data  # the first download had it editable; the refusal concerns the current state


def test_duplicate_rows_formulas_and_error_values(client, liaison):
    data = download(client)
    r11, r22 = row_of(data, 11), row_of(data, 22)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[SHEET_TITLE]
    ws.cell(r22, 1).value = ws.cell(r11, 1).value
    ws.cell(r11, PROGRESS).value = "#NAME?"  # what Excel shows for "=开展…" in a general cell
    ws.cell(r11, PROBLEMS).value = "=1+1"  # a real formula (openpyxl makes one of "=…")
    out = io.BytesIO()
    wb.save(out)
    before = saved_state()
    response = upload(client, out.getvalue())
    assert response.status_code == 422
    problems = problems_of(response)
    assert [p[:2] for p in problems] == [
        (str(r11), "工作进展"), (str(r11), "存在的困难和问题"), (str(r22), "编号")
    ]  # fmt: skip
    assert "错误值 #NAME?" in problems[0][2] and "公式 =1+1" in problems[1][2]
    assert f"与第{r11}行是同一事项" in problems[2][2]
    assert saved_state() == before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("sheet", "没有“填报”工作表"),
        ("header", "表头与填报模板不一致"),
    ],
)
def test_files_that_are_not_our_template(client, liaison, name, message):
    data = download(client)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    if name == "sheet":
        wb[SHEET_TITLE].title = "Sheet1"
    else:
        wb[SHEET_TITLE].cell(2, STATUS).value = "状态"
    out = io.BytesIO()
    wb.save(out)
    response = upload(client, out.getvalue())
    assert response.status_code == 422
    assert message in problems_of(response)[0][2]


def test_a_chart_sheet_named_like_the_template_sheet_is_refused(client, liaison):
    """A chart sheet holds no cells: it is not the template's sheet, whatever its name."""
    out = io.BytesIO()
    with xlsxwriter.Workbook(out) as wb:
        wb.add_worksheet("数据").write_column(0, 0, [1, 2, 3])
        chart = wb.add_chart({"type": "bar"})
        chart.add_series({"values": ["数据", 0, 0, 2, 0]})
        wb.add_chartsheet(SHEET_TITLE).set_chart(chart)
    before = saved_state()
    response = upload(client, out.getvalue())
    assert response.status_code == 422
    [(row, column, text)] = problems_of(response)
    assert "没有“填报”工作表" in text and row == "" and column == ""
    assert saved_state() == before


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


MINIMAL = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("报告.txt", b"hello", "只能上传 .xlsx"),
        ("模板.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "只能上传 .xlsx"),
        ("模板.xlsx", b"just text renamed", "不是有效的 .xlsx"),
        ("模板.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "取消密码"),
        ("模板.xlsx", b"PK\x03\x04" + b"\0" * 50, "已损坏"),
        ("模板.xlsx", _zip({"a.txt": b"x"}), "不是有效的 .xlsx"),
        ("模板.xlsx", _zip({**MINIMAL, "xl/worksheets/sheet1.xml": b"\0" * (30 * 2**20)}),
         "压缩比异常"),
        ("模板.xlsx", _zip({**MINIMAL, **{f"xl/media/{i}.bin": b"x" for i in range(120)}}),
         "内部部件"),
        ("模板.xlsx", _zip({**MINIMAL, **{f"xl/{i}.bin": b"\0" * 2**20 for i in range(60)}}),
         "解压后达"),
        ("模板.xlsx", _zip(MINIMAL), "无法读取"),
    ],
    ids=["txt", "xls", "not-zip", "encrypted", "broken-zip", "zip-not-xlsx", "bomb-ratio",
         "many-entries", "bomb-size", "empty-workbook"],
)  # fmt: skip
def test_bad_files_are_refused_before_anything_is_read(client, liaison, filename, content, message):
    before = saved_state()
    response = upload(client, content, filename)
    assert response.status_code == 422
    [(row, column, text)] = problems_of(response)
    assert message in text and row == "" and column == ""
    assert saved_state() == before


def test_oversized_upload_is_refused(client, liaison):
    response = upload(client, b"PK\x03\x04" + b"\0" * MAX_UPLOAD_BYTES)
    assert response.status_code == 422
    assert "超过 5 MB" in problems_of(response)[0][2]


def test_zip_bomb_is_never_inflated(monkeypatch):
    """The archive checks run on the directory alone: openpyxl is never reached."""
    bomb = _zip({**MINIMAL, "xl/worksheets/sheet1.xml": b"\0" * (40 * 2**20)})
    assert len(bomb) < 100_000
    monkeypatch.setattr(template.openpyxl, "load_workbook", lambda *a, **k: pytest.fail("read"))
    with pytest.raises(template.TemplateRefused, match="压缩比异常"):
        template.read_upload("x.xlsx", io.BytesIO(bomb))


def test_upload_needs_a_file(client, liaison):
    response = client.post("/exports/template/upload", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "请选择要上传的填报模板" in response.get_data(as_text=True)


def test_a_failure_while_saving_leaves_nothing_half_saved(client, liaison, monkeypatch):
    from tracker.reports import services as report_services

    data = download(client)
    filled = edit(
        data, {(row_of(data, 11), PROGRESS): "第一行", (row_of(data, 22), PROGRESS): "第二行"}
    )
    real, calls = report_services.save_draft, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # someone saved the second report a moment ago
            raise report_services.StaleReportError("保存失败：该报告在您打开后已被他人修改。")
        return real(*args, **kwargs)

    monkeypatch.setattr(report_services, "save_draft", flaky)
    before = saved_state()
    response = upload(client, filled)
    assert response.status_code == 422 and len(calls) == 2
    assert "已被他人修改" in problems_of(response)[0][2]
    assert saved_state() == before


def test_uploads_are_parsed_with_defusedxml():
    import openpyxl.xml.functions

    assert openpyxl.DEFUSEDXML is True
    assert openpyxl.xml.functions.iterparse.__module__.startswith("defusedxml")


def test_an_untouched_template_accepts_multi_line_text_typed_in_the_browser(
    client, liaison, quarter
):
    """The browser sends CRLF and trailing spaces; the workbook gives LF back. A template
    downloaded after such a report was submitted, uploaded untouched, changes nothing."""
    obligation = quarter.obligation(22, "mps")
    typed = "开展专项行动 3 次。  \r\n\r\n\u3000\u3000第二段缩进保留。\t\r\n"
    response = client.post(
        f"/obligations/{obligation.id}/edit",
        data={
            "status": "in_progress", "progress": typed, "problems": "经费不足\r\n人员紧张 ",
            "practices": "", "suggestions": "", "next_steps": "", "save_and_submit": "1",
        },
    )  # fmt: skip
    assert response.status_code == 302
    report = quarter.obligation(22, "mps").report
    assert report.state == ReportState.SUBMITTED
    assert report.progress == "开展专项行动 3 次。\n\n\u3000\u3000第二段缩进保留。"
    assert report.problems == "经费不足\n人员紧张"
    version, updated_at = report.version, report.updated_at
    data = download(client)
    before = saved_state()
    response = upload(client, data)
    assert response.status_code == 302, problems_of(response)
    follow = client.get(response.location).get_data(as_text=True)
    assert "模板中的内容与系统中一致，没有需要保存的修改" in follow
    assert saved_state()[:2] == before[:2]
    db.session.refresh(report)
    assert (report.state, report.version, report.updated_at) == (
        ReportState.SUBMITTED, version, updated_at,
    )  # fmt: skip


def test_a_report_stored_with_crlf_is_unchanged_by_its_untouched_template(client, liaison, quarter):
    """Text stored before input was normalised (CRLF, trailing spaces) still compares equal
    to what the workbook gives back."""
    obligation = quarter.obligation(22, "mps")
    report = services.save_draft(
        obligation,
        ReportInput(status=ProgressStatus.ONGOING, progress="甲"),
        actor=liaison,
        expected_version=None,
    )
    services.submit_report(report, actor=liaison)
    report.progress = "第一行 \r\n第二行\r\n"
    db.session.commit()
    data = download(client)
    before = saved_state()
    response = upload(client, data)
    assert response.status_code == 302, problems_of(response)
    assert saved_state()[:2] == before[:2]


def test_the_template_reader_normalises_text_and_keeps_indentation(client, liaison, quarter):
    data = download(client)
    r11 = row_of(data, 11)
    changed = edit(
        data, {(r11, PROGRESS): "\u3000\u3000首段缩进  \r\n次行\t\r\n\r\n", (r11, STATUS): "推进中"}
    )
    assert upload(client, changed).status_code == 302
    assert quarter.obligation(11, "mps").report.progress == "\u3000\u3000首段缩进\n次行"


def test_an_id_number_in_the_template_is_refused_and_nothing_is_saved(client, liaison, quarter):
    data = download(client)
    r11 = row_of(data, 11)
    before = saved_state()
    filled = edit(data, {(r11, STATUS): "推进中", (r11, PROGRESS): "走访 11010519491231002X 一户"})
    response = upload(client, filled)
    assert response.status_code == 422
    ((row, _column, message),) = problems_of(response)
    assert row == str(r11) and "“工作进展”中含有疑似身份证号码（110*************2X）" in message
    assert "11010519491231002X" not in response.get_data(as_text=True)
    assert saved_state() == before
