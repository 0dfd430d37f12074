"""A department's 报送 sheet: its items and reports, the sign-off, the block to sign and stamp;
from the web (the department and coordinators) and the command line."""

from __future__ import annotations

import io
import re

import pytest

from tests.exports.conftest import MASTHEAD_FIRST, MASTHEAD_HEADER, data_rows, formulas_in, load
from tracker.dashboard import queries as dashboard
from tracker.exports.department import (
    DATE_LINE,
    PAPER_COLUMNS,
    SEAL,
    SIGNATURE,
    department_paper,
    write_department_xlsx,
)
from tracker.exports.workbook import MIN_PRINTED_POINTS, printed_scale
from tracker.extensions import db
from tracker.reports import services, signoff
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def signed(app, filed, make_user, monkeypatch):
    """民政部 signs off its item 22 report: 王处长 approves what the liaison sent up."""
    monkeypatch.setitem(app.config, "TRACKER_SIGNOFF_REQUIRED", True)
    liaison = make_user("liaison", "mca", display_name="张联络", phone="010-58123456")
    approver = make_user("approver", "mca", display_name="王处长", phone="010-66261234")
    obligation = filed.obligation(22, "mca")
    report = services.save_draft(
        obligation, ReportInput(status=ProgressStatus.IN_PROGRESS, progress="已签发的进展。"),
        actor=liaison, expected_version=None,
    )  # fmt: skip
    signoff.request_approval(report, actor=liaison)
    signoff.approve(report, actor=approver)
    db.session.commit()
    return {"liaison": liaison, "approver": approver}


def write(paper) -> bytes:
    out = io.BytesIO()
    write_department_xlsx(out, paper)
    return out.getvalue()


def by_item(ws) -> dict[int, list[tuple]]:
    found: dict[int, list[tuple]] = {}
    for row in data_rows(ws):
        if isinstance(row[0], int):
            found.setdefault(row[0], []).append(row)
    return found


def test_the_sheet_lists_every_item_of_the_department_with_its_report(filed, people, signed):
    mca = people["mca"].department
    paper = department_paper(mca, filed.period, prepared_by=people["coordinator"])
    ws = load(write(paper))["报送表"]
    assert [c.value for c in ws[MASTHEAD_HEADER]] == [c.header for c in PAPER_COLUMNS]
    items = by_item(ws)
    expected = {line.number for line in paper.lines}
    assert set(items) == expected and len(paper.lines) >= 5
    # Item 5: submitted, accepted; its self-assessment and progress each on a row of its own.
    five = items[5]
    assert [(r[5], r[6]) for r in five] == [
        ("自评状态", "推进中"),
        ("工作进展", "村规民约全覆盖。"),
    ]
    assert five[0][3].startswith("已审核通过") and five[0][4].startswith("报送：2024-10-08 09:30")
    # Item 22: signed off inside the department before it went up.
    twenty_two = items[22][0]
    assert "审核签发：王处长" in twenty_two[4]
    # Item 1: 民政部's draft is not on a copy for someone outside the department.
    one = items[1]
    assert one[0][4] == "尚未报送" and all(r[6] in (None, "") for r in one)
    assert "草稿内容" not in str(data_rows(ws))
    # The counts are the dashboard's scorecard for the same department.
    score = next(s for s in dashboard.scorecard(filed.period) if s.department.id == mca.id)
    assert (paper.counts.due, paper.counts.submitted, paper.counts.overdue) == (
        score.obligations, score.submitted, score.overdue,
    )  # fmt: skip


def test_the_masthead_names_who_answers_for_it(filed, people, signed):
    mca = people["mca"].department
    ws = load(write(department_paper(mca, filed.period, prepared_by=people["coordinator"])))
    sheet = ws["报送表"]
    assert sheet["A1"].value == "表号：RWFG-BS"
    assert sheet["A2"].value.endswith("\n民政部任务分工落实情况报送表")
    fields = sheet["A4"].value
    # 填报人: the one exporting is not the department's, so one of its liaisons is named.
    assert fields.startswith("填报单位：民政部") and "审核人：王处长" in fields
    assert re.search(r"填报人：(张联络|\S+)", fields)
    own = load(write(department_paper(mca, filed.period, prepared_by=signed["liaison"])))
    fields = own["报送表"]["A4"].value
    assert "填报人：张联络" in fields and "联系电话：010-58123456" in fields


def test_the_department_s_own_copy_shows_its_draft_marked(filed, people):
    mca = people["mca"].department
    paper = department_paper(mca, filed.period, prepared_by=people["mca"], include_drafts=True)
    one = by_item(load(write(paper))["报送表"])[1]
    assert one[0][4] == "草稿，尚未报送" and ("工作进展", "草稿内容") in [(r[5], r[6]) for r in one]


def test_the_sheet_ends_with_counts_and_the_block_to_sign_and_stamp(filed, people, signed):
    mca = people["mca"].department
    paper = department_paper(mca, filed.period)
    ws = load(write(paper))["报送表"]
    texts = [
        [cell.value for cell in row if cell.value is not None]
        for row in ws.iter_rows(min_row=MASTHEAD_FIRST)
    ]
    counts = next(t[0] for t in texts if t and str(t[0]).startswith("本季度应报事项"))
    assert f"已报送 {paper.counts.submitted} 项" in counts
    assert f"其中经本部门审核签发 {paper.counts.signed_off} 项" in counts
    assert paper.counts.signed_off == 1
    assert [SIGNATURE, SEAL] in texts and texts[-1] == [DATE_LINE]
    assert ws.row_dimensions[ws.max_row - 1].height >= 36  # room for a signature


def test_the_sheet_prints_at_full_size_and_keeps_text_as_text(filed, people):
    mps = people["mps"].department
    data = write(department_paper(mps, filed.period))
    assert formulas_in(data) == []  # 公安部's narratives start with formula characters
    ws = load(data)["报送表"]
    widths = [ws.column_dimensions[c.column_letter].width for c in ws[MASTHEAD_HEADER]]
    assert printed_scale(widths) * 10.5 >= MIN_PRINTED_POINTS
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    narratives = [r for r in by_item(ws)[11] if r[5] == "工作进展"]
    assert narratives[0][6].startswith("=HYPERLINK")
    cell = next(c for row in ws.iter_rows() for c in row if c.value == narratives[0][6])
    assert cell.data_type == "s" and cell.quotePrefix


def test_the_department_and_coordinators_download_it_others_do_not(client, filed, people, login):
    url = "/exports/departments/mca/report-sheet.xlsx?period=2024Q3"
    login(people["coordinator"])
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "报送表" in response.headers["Content-Disposition"] or "%E6%8A%A5" in (
        response.headers["Content-Disposition"])  # fmt: skip
    assert "草稿内容" not in str(data_rows(load(response.data)["报送表"]))
    login(people["mca"])
    own = load(client.get(url).data)["报送表"]
    assert "草稿内容" in str(data_rows(own))  # the department's own copy
    assert client.get(url.replace("2024Q3", "1999Q1")).status_code == 404  # not tracked
    assert client.get("/exports/departments/none/report-sheet.xlsx").status_code == 404
    login(people["mps"])
    assert client.get(url).status_code == 403


def test_the_command_writes_either_format_and_refuses_bad_arguments(runner, filed, tmp_path):
    output = tmp_path / "报送表.xlsx"
    args = ["export", "department", "--department", "民政部", "--period", "2024Q3"]
    result = runner.invoke(args=[*args, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "民政部" in result.output and output.exists()
    assert by_item(load(output.read_bytes())["报送表"])
    for bad, message in [
        (["--department", "没有的部门", "--output", str(tmp_path / "a.xlsx")], "没有名称或代码为"),
        (["--department", "mca", "--output", str(tmp_path / "a.pdf")], ".xlsx 或 .docx"),
        (["--department", "mca", "--period", "2019Q1", "--output", str(tmp_path / "a.xlsx")],
         "不在跟踪范围内"),
    ]:  # fmt: skip
        result = runner.invoke(args=["export", "department", *bad])
        assert result.exit_code != 0 and message in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["报送表.xlsx"]


def docx_texts(data: bytes) -> list[str]:
    import docx

    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]


def test_the_word_sheet_says_the_same_and_ends_with_the_block_to_sign(filed, people, signed):
    from docx import Document
    from docx.shared import Mm

    from tracker.exports.department_docx import write_department_docx
    from tracker.exports.document import east_asian_font

    mca = people["mca"].department
    paper = department_paper(mca, filed.period, prepared_by=signed["liaison"])
    out = io.BytesIO()
    write_department_docx(out, paper)
    texts = docx_texts(out.getvalue())
    assert texts[0] == "民政部\n任务分工落实情况报送表"
    assert texts[1] == ""  # the standard's blank line under the title
    assert "填报单位：民政部" in texts[2] and "填报人：张联络" in texts[2]
    assert "联系电话：010-58123456" in texts[3] and "审核人：王处长" in texts[3]
    assert texts[4].startswith("填报日期：") and texts[5].startswith("报告期：2024年第三季度")
    assert paper.counts.sentence in texts
    assert "一、民发〔2019〕86号" in texts
    items = [t for t in texts if t.startswith("（") and "项（" in t]
    assert len(items) == len(paper.lines)
    assert items[0] == f"（一）第{paper.lines[0].number}项（{paper.lines[0].role.label}）"
    twenty_two = texts.index(next(t for t in items if t.startswith("（") and "第22项" in t))
    assert "审核签发：王处长" in texts[twenty_two + 2] and "工作进展：已签发的进展。" in texts
    assert "草稿内容" not in "".join(texts)  # the draft stays off a copy without drafts
    assert texts[-3] == f"{SIGNATURE}{'　' * 10}{SEAL}" and texts[-1].startswith(DATE_LINE)
    document = Document(io.BytesIO(out.getvalue()))
    section = document.sections[0]
    assert (round(section.page_width / Mm(1)), round(section.page_height / Mm(1))) == (210, 297)
    body = next(p for p in document.paragraphs if p.text == paper.counts.sentence)
    assert body.runs[0].font.size.pt == 16 and east_asian_font(body.runs[0])


def test_the_word_sheet_from_the_web_and_the_command(
    client, filed, people, login, runner, tmp_path
):
    url = "/exports/departments/mca/report-sheet.docx?period=2024Q3"
    login(people["mca"])
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    assert "工作进展：草稿内容" in docx_texts(response.data)  # the department's own copy
    login(people["coordinator"])
    assert "草稿内容" not in "".join(docx_texts(client.get(url).data))
    login(people["mps"])
    assert client.get(url).status_code == 403
    output = tmp_path / "报送表.docx"
    args = ["export", "department", "--department", "mca", "--period", "2024Q3"]
    result = runner.invoke(args=[*args, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert docx_texts(output.read_bytes())[0] == "民政部\n任务分工落实情况报送表"
