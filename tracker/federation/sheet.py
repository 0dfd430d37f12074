"""The quarterly workbook's sheet 各地上报情况 (form RWFG-9), at a central instance with members.

One row per member instance (and document, when the workbook covers several): the roll-up's
timeliness against the quarter's due date (:mod:`tracker.federation.timeliness`), then one
narrow column per item with the matrix's mark (● when the latest revision covers the item,
with the number of indicators it reports), as ``/federation/provinces`` shows them; below the
table, the matrix's delivery lights (落实情况: per member and item with central milestones
due, 节点 已完成/到期 and the light's word, painted), then every indicator of the centre's
plans combined across the members by its own rule, each member's value and, for a summed
indicator, its share of the total. A department's own export (restricted to its department)
has no such sheet: the provinces are not its data.

The sheet follows the workbook's conventions (:mod:`tracker.exports.workbook`): the masthead,
frozen and repeated headers, A4 landscape fitted to the width at 9 pt or more, and every text
written as text. The exports package cannot import this one (the cascade sits beside it and
imports the API, which imports exports), so :func:`register` adds the sheet to the workbook
through :func:`tracker.exports.quarterly.add_quarterly_sheet` when the routes are imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tracker import instance
from tracker.catalogue import queries as catalogue_queries
from tracker.catalogue.models import PolicyDocument
from tracker.dashboard.rag import Rag
from tracker.delivery import queries as delivery_queries
from tracker.delivery.models import Combine, DeliveryStep
from tracker.exports.quarterly import (
    DOCUMENT_COLUMN,
    RAG_PAINT,
    OpenSheet,
    QuarterlyRequest,
    add_quarterly_sheet,
)
from tracker.exports.workbook import (
    DEFAULT_DIGIT_PIXELS,
    HEADER,
    LINE_POINTS,
    MIN_PRINTED_POINTS,
    ROW_PADDING_POINTS,
    Column,
    Look,
    Sheet,
    printed_scale,
    text_lines,
)
from tracker.extensions import db
from tracker.federation import queries, timeliness
from tracker.federation.timeliness import Arrival, ProvinceArrival

SHEET = "各地上报情况"
MARK = "●"
ARRIVAL_PAINT = {
    Arrival.ON_TIME: RAG_PAINT[Rag.GREEN],
    Arrival.LATE: RAG_PAINT[Rag.AMBER],
    Arrival.MISSING: RAG_PAINT[Rag.RED],
    Arrival.NOT_DUE: RAG_PAINT[Rag.GREY],
}
NO_INDICATORS = "该文件尚无已批准的落实计划量化指标"
NO_DELIVERY = "本季度前尚无到期的中央计划节点，或尚无地方上报，暂无落实情况"
# A delivery light's paint: the step's colour as the matrix shows it (DeliveryStep.css_class).
STEP_PAINT = {
    DeliveryStep.ON_PACE: RAG_PAINT[Rag.GREEN],
    DeliveryStep.MOSTLY: RAG_PAINT[Rag.GREEN],
    DeliveryStep.AT_RISK: RAG_PAINT[Rag.AMBER],
    DeliveryStep.BEHIND: RAG_PAINT[Rag.RED],
    DeliveryStep.SEVERE: RAG_PAINT[Rag.RED],
}
BODY_POINTS = 10.5  # the table's font size (tracker.exports.workbook.Look)
SHARE_UNITS = 12  # the totals' share column: wide enough for "100.0%" and its header


@dataclass(frozen=True)
class _MarkColumn(Column):
    """An item's column: as narrow as its mark, whatever the header's rule of thumb says (the
    header is the item's number, one or two digits)."""

    @property
    def fitted_width(self) -> float:
        return self.width


FIXED_COLUMNS = [
    Column("排名", 5, "int"),
    Column("地方", 15, "wrap"),  # seven characters on a line (广西壮族自治区), eight on two
    Column("首次送达时间", 16, "datetime"),
    Column("报送情况", 9, "center"),  # 逾期未报 on one line
    Column("迟报工作日", 8, "int"),
    Column("版本数", 6, "int"),
    Column("覆盖事项", 7, "int"),
]
MARK_WIDTH = 3
# When the items' columns would not print at 9 pt, one wrapped column lists the items instead.
ITEMS_COLUMN = Column("覆盖的事项（括号内为所报指标数）", 40, "wrap")


def register() -> None:
    add_quarterly_sheet(SHEET, write_provinces_sheet)


def columns(item_numbers: Sequence[int], multi: bool) -> tuple[list[Column], bool]:
    """The sheet's columns, and whether each item has a column of its own (else one column
    lists the items covered, when a column per item would print below 9 pt)."""
    first = [DOCUMENT_COLUMN, *FIXED_COLUMNS] if multi else list(FIXED_COLUMNS)
    # "number" (General, centred) rather than "center": a mark never wraps, so the rows'
    # heights need not count it (the estimate would give "●1" two lines in three units).
    marks = [_MarkColumn(str(n), MARK_WIDTH, "number") for n in item_numbers]
    wide = [*first, *marks]
    if printed_scale(_stored(c.fitted_width) for c in wide) * BODY_POINTS >= MIN_PRINTED_POINTS:
        return wide, True
    return [*first, ITEMS_COLUMN], False


def _stored(width: float) -> float:
    """The width XlsxWriter writes for ``width`` (whole pixels plus the cell's padding, in
    256ths of a character), which is what a reader, and the print-size test, reads back."""
    pixels = int(width * DEFAULT_DIGIT_PIXELS + 0.5) + 5
    return int(pixels / DEFAULT_DIGIT_PIXELS * 256) / 256


def write_provinces_sheet(request: QuarterlyRequest, open_sheet: OpenSheet) -> int:
    """Write 各地上报情况 when this is a central instance with members and the workbook is not
    restricted to departments; the number of member rows written (0: no sheet)."""
    if not instance.current().central or request.department_ids is not None:
        return 0
    documents = _documents(request.document_id)
    rows = timeliness.arrivals([d.number for d in documents], request.period)
    if not rows:
        return 0
    multi = len(documents) > 1
    matrices = [queries.provinces_matrix(d, request.period.key) for d in documents]
    numbers = sorted({n for m in matrices for n in m.item_numbers})
    cols, per_item = columns(numbers, multi)
    sheet = open_sheet(SHEET, cols)
    sheet.filtered = False  # the totals follow the table on the same sheet
    for row in rows:
        _member_row(sheet, row, numbers, per_item, multi)
    _notes(sheet, rows[0])
    for matrix in matrices:
        _deliveries(sheet, matrix, rows, multi)
    combine = {
        (i.plan.task.document.number, i.plan.task.number, i.key): i.combine
        for i in delivery_queries.document_indicators_in_force(request.document_id)
    }
    for matrix in matrices:
        _totals(sheet, matrix, combine, multi)
    sheet.finish()
    return len(rows)


def _documents(document_id: int | None) -> list[PolicyDocument]:
    if document_id is None:
        return catalogue_queries.documents()
    found = db.session.get(PolicyDocument, document_id)
    return [found] if found is not None else []


def _member_row(
    sheet: Sheet, row: ProvinceArrival, numbers: Sequence[int], per_item: bool, multi: bool
) -> None:
    values: list[Any] = [
        row.rank, row.name, row.first_received_at, row.arrival.label,
        row.days_late if row.arrival != Arrival.NOT_DUE else None,
        row.revisions, row.items_covered,
    ]  # fmt: skip
    if per_item:
        values += [_mark(row, n) if n in row.items else None for n in numbers]
    else:
        values.append(
            "、".join(
                f"{n}（{row.indicators[n]}）" if row.indicators.get(n) else str(n)
                for n in sorted(row.items)
            )
            or None
        )
    if multi:
        values = [row.document_number, *values]
    sheet.row(values, {3 + multi: ARRIVAL_PAINT[row.arrival]})


def _mark(row: ProvinceArrival, number: int) -> str:
    """The matrix's mark: ● and, when the item reports indicators, how many."""
    count = row.indicators.get(number, 0)
    return f"{MARK}{count}" if count else MARK


def _span(sheet: Sheet, parts: list[tuple[Any, Look | None, int]]) -> None:
    """One row of merged parts, as high as its widest wrapped text needs."""
    widths = [c.fitted_width for c in sheet.columns]
    lines, start = 1, 0
    for value, look, span in parts:
        if isinstance(value, str) and look is not None and look.kind in ("wrap", "text"):
            lines = max(lines, text_lines(value, sum(widths[start : start + span])))
        start += span
    sheet.spans(parts, height=lines * LINE_POINTS + ROW_PADDING_POINTS)


def _layout(sheet: Sheet) -> tuple[int, int, int, int, int]:
    """The totals' spans over the table's columns: title (the member's name under it), rule,
    value, share (about 12 units, not the whole width of the items' columns), and the rest
    left empty."""
    widths = [c.fitted_width for c in sheet.columns]
    share, units = 0, 0.0
    for width in widths[6:]:
        if units >= SHARE_UNITS:
            break
        share, units = share + 1, units + width
    return 3, 1, 2, share, len(widths) - 6 - share


def _notes(sheet: Sheet, first: ProvinceArrival) -> None:
    span = len(sheet.columns)
    sheet.blank()
    note = (
        f"截止日期：{first.due_date.isoformat()}（与本级部门报告相同）。首次送达时间为北京时间；"
        "截止日24时前送达为按时，之后按迟报工作日计，截止日已过仍未送达为逾期未报"
        "（其迟报工作日计至导出当日）；"
        "版本数含更正；覆盖事项及各事项标记按最新版本：●为已报送该事项，数字为所报指标数。"
    )
    _span(sheet, [(note, Look("wrap", border=""), span)])


def _deliveries(
    sheet: Sheet, matrix: queries.Matrix, rows: Sequence[ProvinceArrival], multi: bool
) -> None:
    """落实情况: per member and item with central milestones due, the matrix cell's delivery
    light (节点 已完成/到期 and the light's word, painted as on the page), one row each in the
    table's order, on the totals' spans so that it prints at the table's size."""
    title, rule, value, share, rest = _layout(sheet)
    blank: list[tuple[Any, Look | None, int]] = [(None, None, rest)] if rest else []
    sheet.blank()
    heading = "落实情况（按中央计划本季度前到期的节点，各地上报为已完成的个数；未上报的地方见上表）"
    if multi:
        heading += f" · {matrix.document.number}"
    _span(sheet, [(heading, Look("text", bold=True, border=""), len(sheet.columns))])
    _span(
        sheet,
        [("地方", HEADER, title), ("事项", HEADER, rule), ("节点 已完成/到期", HEADER, value),
         ("落实", HEADER, share), *blank],
    )  # fmt: skip
    order = {row.member_id: n for n, row in enumerate(rows)
             if row.document_number == matrix.document.number}  # fmt: skip
    shown = sorted(
        (r for r in matrix.rows if r.member.id in order), key=lambda r: order[r.member.id]
    )
    written = 0
    for province in shown:
        for number in matrix.item_numbers:
            cell = province.items.get(number)
            if cell is None or cell.delivery is None:
                continue
            fill, color = STEP_PAINT[cell.delivery]
            _span(
                sheet,
                [(province.member.name, Look("wrap"), title),
                 (f"第{number}项", Look("center"), rule),
                 (f"节点 {cell.done}/{cell.due}", Look("center"), value),
                 (cell.delivery.label, Look("center", fill=fill, color=color), share), *blank],
            )  # fmt: skip
            written += 1
    if not written:
        _span(sheet, [(NO_DELIVERY, Look("center"), len(sheet.columns))])


def _totals(
    sheet: Sheet,
    matrix: queries.Matrix,
    combine: dict[tuple[str, int, str], Combine],
    multi: bool,
) -> None:
    title, rule, value, share, rest = _layout(sheet)
    blank: list[tuple[Any, Look | None, int]] = [(None, None, rest)] if rest else []
    sheet.blank()
    heading = f"指标汇总（各地合计与占比）· {matrix.document.number}" if multi else (
        "指标汇总（各地合计与占比）"
    )  # fmt: skip
    _span(sheet, [(heading, Look("text", bold=True, border=""), len(sheet.columns))])
    _span(
        sheet,
        [("事项 · 指标（单位） / 地方", HEADER, title), ("合计方式", HEADER, rule),
         ("合计 / 数值", HEADER, value), ("占合计比例", HEADER, share), *blank],
    )  # fmt: skip
    if not matrix.totals:
        _span(sheet, [(NO_INDICATORS, Look("center"), len(sheet.columns))])
        return
    for total in matrix.totals:
        how = combine.get((matrix.document.number, total.item_number, total.key))
        summed = how == Combine.SUM
        _span(
            sheet,
            [(f"第{total.item_number}项 · {total.name}（{total.unit}）", Look("wrap", bold=True),
              title),
             (how.label if how else "—", Look("center", bold=True), rule),
             (total.total, Look("number", bold=True), value),
             (Decimal(1) if summed and total.total else None, Look("percent", bold=True),
              share), *blank],
        )  # fmt: skip
        for found in total.shares:
            counties = found.counties
            source = f"〔县级台账 {counties['reporting']}/{counties['of']} 县〕" if counties else ""
            _span(
                sheet,
                [(f"\u3000{found.name}{source}", Look("wrap"), title),
                 (None, Look("center"), rule), (found.value, Look("number"), value),
                 (found.share if summed else None, Look("percent"), share), *blank],
            )  # fmt: skip
