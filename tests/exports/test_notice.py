"""The quarterly 通报 draft (.docx), read back with python-docx and checked against the
dashboard's own figures for the same scope."""

from __future__ import annotations

import io
import re

import docx
import pytest
import sqlalchemy as sa
from docx.oxml.ns import qn
from docx.shared import Pt

from tracker.catalogue.models import Department, PolicyDocument
from tracker.dashboard import queries as dashboard
from tracker.dashboard.rag import Rag
from tracker.exports.document import DOCX, OfficialDocument, TableColumn, east_asian_font
from tracker.exports.notice import ATTACHMENTS, NoticeRequest, write_notice
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import services
from tracker.reports.models import Obligation, ProgressStatus
from tracker.reports.services import ReportInput

Q3 = Period(2024, 3)


def read(data: bytes):
    """Open a produced document as Word would."""
    return docx.Document(io.BytesIO(data))


def produce(request: NoticeRequest) -> bytes:
    out = io.BytesIO()
    write_notice(out, request)
    return out.getvalue()


def texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def body_text(document) -> str:
    """The text before the first attachment (the 通报 itself)."""
    lines = texts(document)
    return "\n".join(lines[: lines.index("附件1")])


def table_rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


@pytest.fixture
def praised(filed, people, make_user):
    """On top of ``filed``: one department (the one with fewest obligations, none of filed's)
    reports everything on time, so it is praised; the clock stays on 2024-10-12."""
    counts = db.session.execute(
        sa.select(Department.code, sa.func.count(Obligation.id))
        .join(Obligation, Obligation.department_id == Department.id)
        .where(Obligation.period == Q3.key, Obligation.waived.is_(False))
        .where(Department.code.not_in(["mca", "mps", "acwf", "moj", "moa"]))
        .group_by(Department.code)
        .order_by(sa.func.count(Obligation.id), Department.code)
    ).all()
    code = counts[0][0]
    liaison = make_user("liaison", code)
    filed.at("2024-10-07 10:00")
    department = db.session.scalar(sa.select(Department).where(Department.code == code))
    for obligation in db.session.scalars(
        sa.select(Obligation).where(
            Obligation.period == Q3.key, Obligation.department_id == department.id
        )
    ):
        report = services.save_draft(
            obligation, ReportInput(status=ProgressStatus.IN_PROGRESS, progress="按期推进。"),
            actor=liaison, expected_version=None,
        )  # fmt: skip
        services.submit_report(report, actor=liaison)
    db.session.commit()
    filed.at("2024-10-12 10:00")
    return department


def test_page_setup_and_fonts_follow_gb_t_9704(praised):
    document = read(produce(NoticeRequest(Q3)))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]
    title = document.paragraphs[0]
    assert title.text == "关于2024年第三季度\n任务分工落实情况的通报（代拟稿）"
    assert title.alignment == 1  # centred
    assert {run.font.size for run in title.runs} == {Pt(22)}
    assert {east_asian_font(run) for run in title.runs} == {"方正小标宋简体"}
    assert "各有关部门：" in texts(document)
    body = [p for p in document.paragraphs[:30] if p.text.startswith(("现将", "本期"))]
    assert body
    for paragraph in body:
        assert paragraph.paragraph_format.first_line_indent == Pt(32)  # two characters
        assert round(paragraph.paragraph_format.line_spacing.pt) == 29
        for run in paragraph.runs:
            assert run.font.size == Pt(16)
            assert east_asian_font(run) == "仿宋_GB2312"
    headings = {p.text: p for p in document.paragraphs if re.match(r"^[一二三四五]、", p.text)}
    assert list(headings) == [
        "一、总体情况", "二、逾期未报事项", "三、牵头部门落实情况", "四、各部门报送情况",
        "五、下一步工作",
    ]  # fmt: skip
    assert {east_asian_font(r) for p in headings.values() for r in p.runs} == {"黑体"}
    second = [p for p in document.paragraphs if p.text.startswith("（一）")]
    assert {east_asian_font(r) for p in second for r in p.runs} == {"楷体_GB2312"}
    footer = section.footer.paragraphs[0].paragraph_format.element
    assert "PAGE" in footer.xml and "\u2014" in footer.xml  # — N —


def test_attachment_notes_match_the_attachments(praised):
    document = read(produce(NoticeRequest(Q3)))
    lines = texts(document)
    first = next(i for i, line in enumerate(lines) if line.startswith("附件："))
    assert lines[first : first + 2] == [f"附件：1.{ATTACHMENTS[0]}", f"2.{ATTACHMENTS[1]}"]
    for number, title in enumerate(ATTACHMENTS, start=1):
        mark = lines.index(f"附件{number}")
        assert lines[mark + 1] == title
        paragraph = document.paragraphs[mark]
        assert paragraph.paragraph_format.page_break_before
        assert {east_asian_font(r) for r in paragraph.runs} == {"黑体"}
    # Signed by the setting's body, dated on the judging day in Arabic numerals.
    assert lines[lines.index("民政部办公厅") + 1] == "2024年10月12日"
    assert len(document.tables) == 2
    # Each table's header row repeats on every page, and only that row.
    assert document.element.body.xml.count("<w:tblHeader/>") == 2


def test_every_figure_is_the_dashboards(praised):
    document = read(produce(NoticeRequest(Q3)))
    text = body_text(document)
    h, scores = dashboard.headline_and_scorecard(Q3)
    leads = dashboard.lead_summary(Q3)
    red = {(row.task.document_number, row.task.number) for row in dashboard.overdue(Q3)}
    assert h.overdue > 0 and h.returned > 0 and h.on_time_rate is not None  # the data varies
    assert f"本期应报任务{h.obligations}项（另豁免{h.waived}项），已报送{h.submitted}项" in text
    assert f"已审核通过{h.accepted}项、待审核{h.pending_review}项、被退回修改{h.returned}项" in text
    assert f"按时报送{h.on_time}项，按时报送率{h.on_time_rate * 100:.1f}%" in text
    assert f"逾期未报{h.overdue}项。" in text
    assert f"逾期未报（红灯）任务{h.overdue}项，涉及{len(red)}项工作任务" in text
    numbers = sorted(n for _, n in red)
    listed = re.search(r"民发〔2019〕86号第([\d、]+)项", text).group(1)
    assert [int(n) for n in listed.split("、")] == numbers[:30]
    behind = [lead for lead in leads if lead.by_rag.get(Rag.RED, 0) + lead.by_rag.get(Rag.AMBER, 0)]
    assert behind
    for lead in behind:
        assert f"{lead.department.name}（牵头{lead.items}项" in text
    praised_rows = [s for s in scores if s.on_time_rate == 1.0 and s.overdue == 0]
    assert praised.name in {s.department.name for s in praised_rows}
    praise = next(line for line in text.splitlines() if line.startswith("按时报送率100%"))
    assert praise.count("、") == len(praised_rows) - 1
    for row in praised_rows:
        assert row.department.name in praise
    urged = [s for s in scores if s.overdue]
    urge = next(line for line in text.splitlines() if line.startswith("有逾期未报任务的部门"))
    assert f"（{len(urged)}个）" in urge
    for row in urged:
        assert f"{row.department.name}（逾期未报{row.overdue}项）" in urge
    assert "（请填写下一步工作要求）" in text


def test_the_tables_are_the_lead_summary_and_the_scorecard(praised):
    document = read(produce(NoticeRequest(Q3)))
    h, scores = dashboard.headline_and_scorecard(Q3)
    leads = dashboard.lead_summary(Q3)
    lead_table, score_table = (table_rows(t) for t in document.tables)
    assert lead_table[0][:3] == ["序号", "牵头部门", "牵头事项"]
    assert lead_table[1:] == [
        [str(i), s.department.name, str(s.items),
         *(str(s.by_rag.get(rag, 0)) for rag in ("red", "amber", "blue", "green", "grey")),
         str(s.days_late), str(s.support_pending)]
        for i, s in enumerate(leads, start=1)
    ]  # fmt: skip
    assert score_table[0][:2] == ["排名", "部门"]
    rate = lambda r: "—" if r is None else f"{r * 100:.1f}%"  # noqa: E731
    assert score_table[1:] == [
        [str(s.rank), s.department.name, str(s.obligations), str(s.submitted), str(s.on_time),
         rate(s.on_time_rate), str(s.overdue), str(s.returns), str(s.urges)]
        for s in scores
    ]  # fmt: skip
    assert sum(int(row[2]) for row in score_table[1:]) == h.obligations


def test_one_document_is_named_and_scoped(praised):
    seed = db.session.scalar(sa.select(PolicyDocument).where(PolicyDocument.number.contains("86")))
    document = read(produce(NoticeRequest(Q3, seed.id, seed.number)))
    assert document.paragraphs[0].text.startswith(f"关于{seed.number}文件2024年第三季度\n")
    h = dashboard.headline(Q3, seed.id)
    assert f"本期应报任务{h.obligations}项" in body_text(document)


def test_a_period_with_nothing_due_and_an_empty_scope_read_sensibly(praised):
    services.open_period(Period(2024, 4))  # opened, due in January: nothing judged yet
    db.session.commit()
    text = body_text(read(produce(NoticeRequest(Period(2024, 4)))))
    assert "尚无已到期或已报送的任务，按时报送率暂无" in text
    assert "本期没有逾期未报的任务。" in text
    empty = PolicyDocument(number="民发〔2099〕1号", title="无任务的文件", issuer="民政部")
    db.session.add(empty)
    db.session.flush()
    document = read(produce(NoticeRequest(Q3, empty.id, empty.number)))
    text = body_text(document)
    assert "2024年第三季度尚无应报任务，暂无可通报的落实情况。" in text
    assert "二、下一步工作" in text and "（请填写下一步工作要求）" in text
    assert [len(t.rows) for t in document.tables] == [1, 1]  # header rows only
    assert "本期没有应报任务。" in texts(document)


def test_a_frozen_quarter_reads_its_snapshot_as_the_dashboard_does(praised, people):
    from tracker.dashboard.services import freeze_snapshot

    snapshot = freeze_snapshot(Q3)
    db.session.commit()
    before = dashboard.headline(Q3)
    # A late report after the freeze moves the live figures, not the frozen quarter's.
    late = db.session.scalar(
        sa.select(Obligation).where(
            Obligation.period == Q3.key,
            Obligation.department_id == people["mps"].department_id,
            Obligation.report == None,  # noqa: E711 - SQL IS NULL
        )
    )
    report = services.save_draft(
        late, ReportInput(status=ProgressStatus.IN_PROGRESS, progress="补报。"),
        actor=people["mps"], expected_version=None,
    )  # fmt: skip
    services.submit_report(report, actor=people["mps"])
    db.session.commit()
    assert dashboard.headline(Q3, snapshot=None).submitted == before.submitted + 1  # live
    assert dashboard.headline(Q3) == before  # the dashboard reads the snapshot
    text = body_text(read(produce(NoticeRequest(Q3))))
    when = f"{snapshot.closes_on.year}年{snapshot.closes_on.month}月{snapshot.closes_on.day}日"
    assert f"数据截至{when}，为本季度封存时的状态。" in text
    assert f"逾期未报{before.overdue}项。" in text and f"已报送{before.submitted}项" in text


def test_control_characters_from_users_do_not_break_the_file(praised):
    praised.name = "测试\x07部门\x1b\ufffe"
    db.session.flush()
    seed = db.session.scalar(sa.select(PolicyDocument).where(PolicyDocument.number.contains("86")))
    document = read(produce(NoticeRequest(Q3, seed.id, "民发\x0c〔2019〕86号")))
    assert "民发〔2019〕86号文件" in document.paragraphs[0].text
    assert "测试部门" in body_text(document)
    assert "测试部门" in {row[1] for row in table_rows(document.tables[1])}


def test_the_writer_keeps_text_as_text(tmp_path):
    doc = OfficialDocument()
    doc.paragraph("{ PAGE } =SUM(A1) <w:t>\x00\x08")
    doc.table([TableColumn("列", 20)], [["\x01=1+1"], [None], [3]])
    path = tmp_path / "t.docx"
    doc.save(path)
    document = docx.Document(str(path))
    assert document.paragraphs[0].text == "{ PAGE } =SUM(A1) <w:t>"
    assert table_rows(document.tables[0]) == [["列"], ["=1+1"], [""], ["3"]]
    body = document.element.body.xml
    assert "fldSimple" not in body and "instrText" not in body  # only the footer has a field
    assert list(tmp_path.iterdir()) == [path]


def test_copied_paragraphs_keep_order_spaces_breaks_and_their_look(tmp_path):
    """Paragraphs of one look are copies of the first: each keeps its own text (leading and
    trailing spaces, line breaks, tabs), the order they were written in, and the section
    properties stay the body's last element."""
    doc = OfficialDocument()
    texts = ["第一段", "  两个空格在前和在后  ", "换行\n第二行", "制表\t之后", "", "末段"]
    for text in texts:
        doc.paragraph(text)
    doc.heading("一、标题")
    doc.paragraph("标题之后")
    path = tmp_path / "t.docx"
    doc.save(path)
    document = docx.Document(str(path))
    written = [p.text for p in document.paragraphs]
    assert written == [*texts, "一、标题", "标题之后"]
    body = list(document.element.body)
    assert body[-1].tag.endswith("}sectPr")
    assert document.paragraphs[1].runs[0].element.find(qn("w:t")).get(qn("xml:space")) == (
        "preserve"
    )
    fonts = {east_asian_font(p.runs[0]) for p in document.paragraphs if p.text and p.runs}
    assert fonts == {"仿宋_GB2312", "黑体"}
    indents = {p.paragraph_format.first_line_indent for p in document.paragraphs if p.text}
    assert indents == {Pt(32)}


def test_fallback_fonts_are_written_when_asked_for(tmp_path):
    doc = OfficialDocument(fallback=1)
    doc.title("标题")
    doc.paragraph("正文")
    doc.heading("一、标题", level=1)
    out = io.BytesIO()
    doc.save(out)
    paragraphs = read(out.getvalue()).paragraphs
    fonts = [east_asian_font(p.runs[0]) for p in paragraphs if p.runs]
    assert fonts == ["华文中宋", "仿宋", "SimHei"]


def test_route_permissions(client, praised, people, login, make_user):
    url = "/exports/notice.docx?period=2024Q3"
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for who in ("coordinator", "leader", "admin"):
        login(people[who])
        response = client.get(url)
        assert response.status_code == 200, who
        assert response.mimetype == DOCX
        assert "2024Q3" in response.headers["Content-Disposition"]
        assert read(response.data).paragraphs[0].text.startswith("关于2024年第三季度")
    for who in ("mps", "mps_viewer"):
        login(people[who])
        assert client.get(url).status_code == 403, who
    login(people["coordinator"])
    assert client.get("/exports/notice.docx?period=1999Q1").status_code == 404
    assert client.get("/exports/notice.docx?period=2024Q3&document=999999").status_code == 404


def test_the_dashboard_links_to_the_draft_for_those_allowed(client, praised, people, login):
    login(people["coordinator"])
    page = client.get("/dashboard?period=2024Q3").get_data(as_text=True)
    assert 'id="download-notice"' in page and "/exports/notice.docx?period=2024Q3" in page
    login(people["mps"])
    page = client.get("/dashboard?period=2024Q3").get_data(as_text=True)
    assert "download-notice" not in page


def test_cli_writes_the_draft(runner, praised, tmp_path):
    output = tmp_path / "通报.docx"
    result = runner.invoke(args=["export", "notice", "--period", "2024Q3", "--output", str(output)])
    assert result.exit_code == 0, result.output
    h = dashboard.headline(Q3)
    assert f"应报任务 {h.obligations} 项，逾期未报 {h.overdue} 项" in result.output
    assert read(output.read_bytes()).paragraphs[0].text.startswith("关于2024年第三季度")
    assert list(tmp_path.iterdir()) == [output]
    args = ["export", "notice", "--period", "2024Q3", "--document", "民发〔2019〕86号"]
    result = runner.invoke(args=[*args, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "民发〔2019〕86号文件" in read(output.read_bytes()).paragraphs[0].text


def test_cli_refuses_bad_arguments_and_writes_nothing(runner, praised, tmp_path):
    output = tmp_path / "out.docx"
    cases = [
        (["--period", "2024-3", "--output", str(output)], "无效的报告期"),
        (["--period", "2019Q1", "--output", str(output)], "不在跟踪范围内"),
        (["--period", "2024Q3", "--document", "民发〔2099〕1号", "--output", str(output)],
         "没有文号为"),
        (["--period", "2024Q3", "--output", str(tmp_path / "out.xlsx")], "须以 .docx 结尾"),
        (["--period", "2024Q3", "--output", str(tmp_path / "none" / "a.docx")], "目录不存在"),
    ]  # fmt: skip
    for args, message in cases:
        result = runner.invoke(args=["export", "notice", *args])
        assert result.exit_code == 2 and message in result.output, result.output
    assert list(tmp_path.iterdir()) == []
