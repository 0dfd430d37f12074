"""The quarterly 通报 draft: a Word document written from the dashboard's figures.

For coordinators to edit, laid out by GB/T 9704-2012 (:mod:`tracker.exports.document`). Every
figure comes from the dashboard's own readers for the same scope (period and, optionally, one
document; all departments), so the draft and the dashboard never disagree, and a frozen
quarter is read from its snapshot as the dashboard reads it:

* 总体情况: the headline (obligations due, submitted, accepted, pending review, returned,
  on-time rate with one decimal over the obligations judged, overdue), judged on the
  dashboard's day (today, or the closing day of a frozen quarter);
* 逾期未报事项: the red obligations and the items they belong to (:func:`dashboard.overdue`);
* 牵头部门落实情况: the lead departments behind, as the dashboard marks them (lead obligations
  red or amber, :attr:`LeadSummary.behind`), with their counts;
* 各部门报送情况: departments praised — every judged obligation submitted on time
  (按时报送率 100%) and none overdue — and departments urged: any overdue obligation;
* 下一步工作: a placeholder only. Nothing is written that the figures do not say.

Attachments: 附件1 牵头部门落实情况表 (the dashboard's lead summary, furthest behind first) and
附件2 各部门报送情况考核表 (the scorecard in rank order); the 附件说明 names them as their headings
do. Signed by ``TRACKER_NOTICE_ISSUER`` and dated on the judging day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import IO

from flask import current_app

from tracker.dashboard import queries as dashboard
from tracker.dashboard.queries.aggregate import LeadSummary
from tracker.dashboard.rag import Rag
from tracker.exports.document import OfficialDocument, TableColumn, chinese_date
from tracker.exports.workbook import clean_text
from tracker.periods import Period

ATTACHMENTS = ("牵头部门落实情况表", "各部门报送情况考核表")
ADDRESSEE = "各有关部门："
NEXT_STEPS_PLACEHOLDER = "（请填写下一步工作要求）"
PRAISE_RULE = "按时报送率100%且无逾期未报"
LISTED_ITEMS = 30  # items named in the text; the rest are counted ("等N项")

LEAD_COLUMNS = [
    TableColumn("序号", 10),
    TableColumn("牵头部门", 34, "left"),
    TableColumn("牵头事项", 14),
    TableColumn("逾期未报", 14),
    TableColumn("退回或临期", 14),
    TableColumn("待审核", 14),
    TableColumn("已通过", 14),
    TableColumn("未到期", 14),
    TableColumn("逾期工作日", 14),
    TableColumn("配合材料逾期或退回", 14),
]
LEAD_RAGS = (Rag.RED, Rag.AMBER, Rag.BLUE, Rag.GREEN, Rag.GREY)
SCORE_COLUMNS = [
    TableColumn("排名", 10),
    TableColumn("部门", 36, "left"),
    TableColumn("应报事项", 15),
    TableColumn("已报送", 15),
    TableColumn("按时报送", 15),
    TableColumn("按时报送率", 20),  # "100.0%" on one line
    TableColumn("逾期未报", 15),
    TableColumn("退回次数", 15),
    TableColumn("催办次数", 15),
]


@dataclass(frozen=True)
class NoticeRequest:
    """What to write: a period and optionally one document (all departments)."""

    period: Period
    document_id: int | None = None
    document_number: str | None = None  # named in the title when one document is asked for


@dataclass(frozen=True)
class NoticeFigures:
    """Everything the 通报 states, as the dashboard reads it for the request's scope."""

    request: NoticeRequest
    judged_on: date
    frozen: bool
    headline: dashboard.Headline
    scores: list[dashboard.ScoreRow]
    leads: list[LeadSummary]
    red_items: list[tuple[str, int]]  # (document number, item number) with a red obligation

    @property
    def behind(self) -> list[LeadSummary]:
        """Lead departments with lead obligations red or amber (the dashboard's 落后)."""
        return [lead for lead in self.leads if lead.behind]

    @property
    def praised(self) -> list[dashboard.ScoreRow]:
        """Departments whose judged obligations were all on time, none overdue (rank order)."""
        return [
            row
            for row in self.scores
            if row.judged and row.on_time == row.judged and row.overdue == 0
        ]

    @property
    def urged(self) -> list[dashboard.ScoreRow]:
        """Departments with overdue obligations, most overdue first (then by rank)."""
        rows = [row for row in self.scores if row.overdue]
        return sorted(rows, key=lambda row: -row.overdue)  # stable: ties keep the rank order


def notice_figures(request: NoticeRequest) -> NoticeFigures:
    """Read the dashboard's figures for the request (one scope, so one judging day)."""
    scope = dashboard.make_scope(request.period, request.document_id)
    period, document_id, today, snapshot = (
        request.period, request.document_id, scope.today, scope.snapshot,
    )  # fmt: skip
    headline, scores = dashboard.headline_and_scorecard(
        period, document_id, today=today, snapshot=snapshot
    )
    leads = dashboard.lead_summary(period, document_id, today=today, snapshot=snapshot)
    overdue = dashboard.overdue(period, document_id, today=today, snapshot=snapshot)
    red_items = sorted({(row.task.document_number, row.task.number) for row in overdue})
    return NoticeFigures(request, scope.judged_on, scope.frozen, headline, scores, leads, red_items)


def notice_title(request: NoticeRequest) -> tuple[str, str]:
    """The title's two lines: the period (and the document, if one), then the subject,
    marked as a draft."""
    document = f"{clean_text(request.document_number)}文件" if request.document_number else ""
    return f"关于{document}{request.period.label}", "任务分工落实情况的通报（代拟稿）"


def write_notice(target: str | IO[bytes], request: NoticeRequest) -> NoticeFigures:
    """Write the 通报 draft of ``request`` to ``target`` (a path, atomically, or a binary
    file) and return the figures it states."""
    figures = notice_figures(request)
    build_notice(figures, issuer=current_app.config["TRACKER_NOTICE_ISSUER"]).save(target)
    return figures


def build_notice(figures: NoticeFigures, *, issuer: str) -> OfficialDocument:
    """The document: title, 主送, the sections, 附件说明, signature, the two attachments."""
    doc = OfficialDocument()
    doc.title(*notice_title(figures.request))
    doc.addressee(ADDRESSEE)
    for paragraph in _opening(figures):
        doc.paragraph(paragraph)
    if figures.headline.obligations:
        _sections(doc, figures)
    doc.heading("二、下一步工作" if not figures.headline.obligations else "五、下一步工作")
    doc.paragraph(NEXT_STEPS_PLACEHOLDER)
    doc.attachment_notes(ATTACHMENTS)
    doc.signature(issuer, figures.judged_on)
    _lead_table(doc, figures)
    _score_table(doc, figures)
    return doc


def _opening(figures: NoticeFigures) -> list[str]:
    period = figures.request.period.label
    when = chinese_date(figures.judged_on)
    if not figures.headline.obligations:
        return [f"截至{when}，{period}尚无应报任务，暂无可通报的落实情况。"]
    frozen = "，为本季度封存时的状态" if figures.frozen else ""
    return [f"现将{period}任务分工落实情况通报如下。数据截至{when}{frozen}。"]


def _sections(doc: OfficialDocument, figures: NoticeFigures) -> None:
    doc.heading("一、总体情况")
    doc.paragraph(overall_text(figures.headline))
    doc.heading("二、逾期未报事项")
    doc.paragraph(red_text(figures))
    doc.heading("三、牵头部门落实情况")
    doc.paragraph(behind_text(figures))
    doc.heading("四、各部门报送情况")
    doc.heading("（一）按时报送的部门", level=2)
    doc.paragraph(praised_text(figures))
    doc.heading("（二）需督促的部门", level=2)
    doc.paragraph(urged_text(figures))


def percent(rate: float | None) -> str:
    """The on-time rate as the dashboard shows it: one decimal, or "—" when none."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def overall_text(h: dashboard.Headline) -> str:
    """总体情况 from the headline."""
    waived = f"（另豁免{h.waived}项）" if h.waived else ""
    if h.on_time_rate is None:
        rate = "尚无已到期或已报送的任务，按时报送率暂无"
    else:
        rate = (
            f"按已到期或已报送的{h.judged}项计，按时报送{h.on_time}项，"
            f"按时报送率{percent(h.on_time_rate)}"
        )
    return (
        f"本期应报任务{h.obligations}项{waived}，已报送{h.submitted}项，其中已审核通过"
        f"{h.accepted}项、待审核{h.pending_review}项、被退回修改{h.returned}项；{rate}；"
        f"逾期未报{h.overdue}项。"
    )


def red_text(figures: NoticeFigures) -> str:
    """逾期未报: the red obligations and their items, by document."""
    overdue = figures.headline.overdue
    if not overdue:
        return "本期没有逾期未报的任务。"
    return (
        f"逾期未报（红灯）任务{overdue}项，涉及{len(figures.red_items)}项工作任务："
        f"{items_text(figures.red_items)}。"
    )


def items_text(items: list[tuple[str, int]]) -> str:
    """``民发〔2019〕86号第1、3项；…``; past :data:`LISTED_ITEMS` items, "等N项"."""
    shown = items[:LISTED_ITEMS]
    by_document: dict[str, list[int]] = {}
    for number, item in shown:
        by_document.setdefault(number, []).append(item)
    text = "；".join(
        f"{clean_text(number)}第{'、'.join(str(n) for n in numbers)}项"
        for number, numbers in by_document.items()
    )
    if len(items) > len(shown):
        text += f"等{len(items)}项（详见季度报表“逾期清单”）"
    return text


def behind_text(figures: NoticeFigures) -> str:
    """牵头部门落实情况: the lead departments behind, with their counts."""
    leads = figures.leads
    if not leads:
        return "本期没有牵头事项。"
    behind = figures.behind
    if not behind:
        return f"{len(leads)}个牵头部门的牵头事项均无逾期未报、被退回或临近截止的情况。"
    parts = []
    for lead in behind:
        red, amber = lead.by_rag.get(Rag.RED, 0), lead.by_rag.get(Rag.AMBER, 0)
        counts = [f"牵头{lead.items}项"]
        if red:
            counts.append(f"逾期未报{red}项")
        if amber:
            counts.append(f"被退回或临近截止{amber}项")
        if lead.support_pending:
            counts.append(f"配合部门材料逾期或被退回{lead.support_pending}份")
        parts.append(f"{clean_text(lead.department.name)}（{'，'.join(counts)}）")
    return (
        f"{len(leads)}个牵头部门中，{len(behind)}个部门的牵头事项有逾期未报、被退回或临近截止"
        f"的情况：{'；'.join(parts)}。各部门牵头事项详见附件1。"
    )


def praised_text(figures: NoticeFigures) -> str:
    """Departments praised, and the rule that picked them."""
    praised = figures.praised
    if not praised:
        return f"本期没有{PRAISE_RULE}的部门。"
    names = "、".join(clean_text(row.department.name) for row in praised)
    return f"{PRAISE_RULE}的部门（{len(praised)}个）：{names}。各部门情况详见附件2。"


def urged_text(figures: NoticeFigures) -> str:
    """Departments urged: those with overdue obligations, with their counts."""
    urged = figures.urged
    if not urged:
        return "本期没有逾期未报任务的部门。"
    names = "、".join(
        f"{clean_text(row.department.name)}（逾期未报{row.overdue}项）" for row in urged
    )
    return f"有逾期未报任务的部门（{len(urged)}个）：{names}。请尽快报送。"


def lead_rows(leads: list[LeadSummary]) -> list[list[object]]:
    """附件1's rows: the lead summary in the dashboard's order."""
    return [
        [
            position,
            lead.department.name,
            lead.items,
            *(lead.by_rag.get(rag, 0) for rag in LEAD_RAGS),
            lead.days_late,
            lead.support_pending,
        ]
        for position, lead in enumerate(leads, start=1)
    ]


def score_rows(scores: list[dashboard.ScoreRow]) -> list[list[object]]:
    """附件2's rows: the scorecard in rank order."""
    return [
        [
            row.rank,
            row.department.name,
            row.obligations,
            row.submitted,
            row.on_time,
            percent(row.on_time_rate),
            row.overdue,
            row.returns,
            row.urges,
        ]
        for row in scores
    ]


def _lead_table(doc: OfficialDocument, figures: NoticeFigures) -> None:
    doc.attachment(ATTACHMENTS[0])
    doc.table(LEAD_COLUMNS, lead_rows(figures.leads))
    if not figures.leads:
        doc.paragraph("本期没有牵头事项。")


def _score_table(doc: OfficialDocument, figures: NoticeFigures) -> None:
    doc.attachment(ATTACHMENTS[1])
    doc.table(SCORE_COLUMNS, score_rows(figures.scores))
    if not figures.scores:
        doc.paragraph("本期没有应报任务。")
