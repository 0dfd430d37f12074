"""Writing .xlsx files: streamed sheets, shared formats, print settings, and text that stays text.

Every workbook the application produces is written here, with XlsxWriter in constant-memory
mode: each row goes to a temporary file as soon as the next one starts, so memory does not grow
with the cells written. Rows are therefore written in order, and a row's height is set before
its cells. Only XlsxWriter's public API is used.

Safety: spreadsheet cells from users are text. The workbook is opened with every conversion
off (``strings_to_formulas``, ``strings_to_numbers``, ``strings_to_urls``), and every ``str``
goes through :func:`safe_text` and ``write_string``, never ``write``: it is stored as an inline
string, never a formula, whatever its first character. A value starting with ``= + - @``, a tab
or a line break gets a format with Excel's quote prefix, so that it stays text even after
someone edits the cell in Excel. Characters XML cannot carry are dropped, and a cell holds at
most 32,767 characters.

Speed: a look's format is built once (:class:`StyleRegistry`; XlsxWriter formats belong to the
workbook) and each table column's format is resolved before the first row, so that a cell costs
one type test and one ``write_*`` call.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from tracker.db import local_zone, to_local

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
MAX_CELL_CHARS = 32_767  # Excel's limit per cell
# What XML 1.0 cannot carry: C0 controls but tab and LF (CR is turned into LF first), lone
# surrogates (they cannot be encoded as UTF-8 at all), and the two non-characters.
ILLEGAL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What clean_text changes: the characters above and CR. One search tells a clean text.
NEEDS_CLEANING = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")
FONT_NAME = "宋体"  # body text; readers without it fall back (docs/papers.md)
HEADING_FONT = "黑体"  # a masthead's title
HEADER_FILL = "D9E1F2"
BORDER_COLOUR = "#808080"
TITLE_ROW, HEADER_ROW = 1, 2  # 1-based, as Excel and the readers count
FIRST_DATA_ROW = 3
A4 = 9  # paper size code
WORKBOOK_OPTIONS = {
    # Rows go to temporary files as they are written; in_memory would keep them all.
    "constant_memory": True,
    "in_memory": False,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}

NUMBER_FORMATS = {
    "int": "0",
    "decimal": "0.0",
    "number": "General",  # a typed number shown as typed, no padding decimals (1200, 35.25)
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    # A fixed number of decimals with thousands separators: fixed0 5,133,923 … fixed4.
    **{f"fixed{n}": "#,##0" + ("." + "0" * n if n else "") for n in range(5)},
}
Paint = tuple[str, str | None]  # (fill, font colour), RGB hex
CENTERED = {"int", "decimal", "number", "percent", "date", "datetime", "center"} | {
    f"fixed{n}" for n in range(5)
}
WRAPPING = frozenset({"wrap", "center", "text", "middle"})  # kinds whose alignment wraps
# "middle": wrapped text, left-aligned and vertically centred, for a name beside centred
# numbers on rows of one height (指标轨迹, 指标与节点).
# Row heights, in points, for wrapped 10.5 pt 宋体: per line, padding, and Excel's maximum.
LINE_POINTS, ROW_PADDING_POINTS, MAX_ROW_POINTS = 14.0, 4.0, 409.0
# Excel keeps row heights in whole pixels (0.75 pt); 545 px is the last step below 409 pt.
POINTS_PER_PIXEL, MAX_ROW_PIXELS = 0.75, 545
BORDER_SIDES = {"l": "left", "t": "top", "r": "right", "b": "bottom"}


def fixed_kind(places: int) -> str:
    """The look kind of a number shown with ``places`` decimals (0 to 4) and thousands
    separators."""
    return f"fixed{min(max(places, 0), 4)}"


def display_width(text: str) -> int:
    """Width of ``text`` in Excel character units: CJK and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_lines(text: str, width: float) -> int:
    """How many lines ``text`` fills when wrapped in a column ``width`` Excel units wide.

    An estimate that errs towards one line too many: a character that UTF-8 writes in three
    bytes (CJK, full-width punctuation) counts two units, as :func:`display_width` has it,
    without looking each character up.
    """
    return _lines(text, _per_line(width))


def _per_line(width: float) -> float:
    return max(width - 1.0, 1.0)  # a cell's padding takes about one unit


def _lines(text: str, per_line: float) -> int:
    if "\n" in text:
        return sum(
            _lines(paragraph, per_line) if paragraph else 1 for paragraph in text.split("\n")
        )
    if 2 * len(text) <= per_line:
        return 1
    # len + (bytes - len) / 2: one unit a character, one more for a three-byte one.
    return math.ceil((len(text) + len(text.encode("utf-8", "replace"))) / 2 / per_line)


def fitted_height(cells: Iterable[tuple[Any, float]]) -> float | None:
    """The height (points) at which a row shows each of its wrapped ``(value, units per
    line)`` cells whole; None when one line is enough.

    Readers that do not fit rows on their own (LibreOffice, when printing) then show every
    line; Excel keeps the height once set, and a double click on the row's border refits it.
    """
    lines = max(
        (_lines(value, per_line) for value, per_line in cells if type(value) is str and value),
        default=1,
    )
    if lines <= 1:
        return None
    return min(lines * LINE_POINTS + ROW_PADDING_POINTS, MAX_ROW_POINTS)


def clean_text(value: str) -> str:
    """The text as a cell can hold it: line breaks as LF (XML turns CR LF into LF anyway), no
    characters XML cannot carry, at most 32,767 characters."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if ILLEGAL_CHARACTERS.search(value) is not None:
        value = ILLEGAL_CHARACTERS.sub("", value)
    if len(value) > MAX_CELL_CHARS:
        value = value[:MAX_CELL_CHARS]
    return value


def needs_quote_prefix(text: str) -> bool:
    """Would Excel (or another reader) take this text for a formula or a command?"""
    return text.startswith(FORMULA_PREFIXES)


@dataclass(frozen=True)
class Look:
    """How a cell looks: its kind (number format and alignment), fill, font and protection."""

    # text | wrap | middle | center | int | decimal | number | percent | date | datetime | fixed0-4
    kind: str = "text"
    fill: str | None = None  # RGB hex, e.g. "FDE2DF"
    color: str | None = None  # the font's RGB hex
    bold: bool = False
    size: float = 10.5
    locked: bool = True
    border: str = "ltrb"  # the sides that have a thin line: left, top, right, bottom
    font: str = FONT_NAME
    align: str | None = None  # "right" to override the kind's alignment


TITLE = Look("center", bold=True, size=14, border="")
SUBTITLE = Look("text", border="")
MASTHEAD_TITLE = Look("center", size=16, border="", font=HEADING_FONT)
MASTHEAD_SUBTITLE = Look("center", size=12, border="")
MASTHEAD_FORM = Look("text", border="", align="right")
MASTHEAD_FIELDS = Look("wrap", border="")
HEADER = Look("center", fill=HEADER_FILL, bold=True)
LABEL = Look("text", bold=True)


@dataclass(frozen=True)
class Column:
    """One column of a table sheet: its header, width (Excel units) and the look of its cells."""

    header: str
    width: float = 12
    kind: str = "text"
    hidden: bool = False
    locked: bool = True
    fill: str | None = None

    @property
    def fitted_width(self) -> float:
        """The configured width, widened so that the header fits on the header row's two
        lines (a header wider than its data need not widen the printed page)."""
        return max(self.width, math.ceil(display_width(self.header) / 2) + 3)

    @property
    def look(self) -> Look:
        """The look of this column's data cells."""
        return Look(self.kind, fill=self.fill, locked=self.locked)


def format_properties(look: Look, *, quoted: bool = False) -> dict[str, Any]:
    """XlsxWriter's format properties for ``look`` (with the quote prefix if ``quoted``)."""
    centered = look.kind in CENTERED
    properties: dict[str, Any] = {
        "font_name": look.font,
        "font_size": look.size,
        "align": look.align or ("center" if centered else "left"),
        "valign": "vcenter" if centered or look.bold or look.kind == "middle" else "top",
    }
    if look.bold:
        properties["bold"] = True
    if look.color:
        properties["font_color"] = "#" + look.color
    if look.kind in WRAPPING:
        properties["text_wrap"] = True
    for side in look.border:
        name = BORDER_SIDES[side]
        properties[name], properties[f"{name}_color"] = 1, BORDER_COLOUR
    if look.fill:
        properties["pattern"], properties["bg_color"] = 1, "#" + look.fill
    if look.kind in NUMBER_FORMATS:
        properties["num_format"] = NUMBER_FORMATS[look.kind]
    if not look.locked:
        properties["locked"] = False
        if look.kind not in NUMBER_FORMATS:
            # "Text" format: what a liaison types stays text, even "=…" or "0012".
            properties["num_format"] = "@"
    if quoted:
        properties["quote_prefix"] = True
    return properties


class Style:
    """A look's formats in one workbook: plain, and with the quote prefix.

    The quoted variant (for formula-like text) is added to the workbook only when a cell first
    needs it.
    """

    __slots__ = ("_quoted", "_workbook", "look", "plain")

    def __init__(self, workbook: xlsxwriter.Workbook, look: Look):
        self._workbook, self.look, self._quoted = workbook, look, None
        self.plain: Format = workbook.add_format(format_properties(look))

    @property
    def quoted(self) -> Format:
        """The same format with Excel's quote prefix."""
        if self._quoted is None:
            self._quoted = self._workbook.add_format(format_properties(self.look, quoted=True))
        return self._quoted


class StyleRegistry:
    """One :class:`Style` per distinct look, built once and then shared by every cell."""

    def __init__(self, workbook: xlsxwriter.Workbook):
        self.workbook = workbook
        self._styles: dict[Look, Style] = {}

    def style(self, look: Look) -> Style:
        """The registered style of ``look``, adding it to the workbook on first use."""
        found = self._styles.get(look)
        if found is None:
            found = self._styles[look] = Style(self.workbook, look)
        return found

    def __len__(self) -> int:
        return len(self._styles)


def safe_text(value: str, style: Style) -> tuple[str, Format]:
    """The text to write for ``value`` and its format: never a formula, whatever it starts with.

    Written with ``write_string``, the text is an inline string; a value Excel could take for a
    formula or command (= + - @, a tab or a line break first) gets the quote-prefix format.
    Characters XML cannot carry are dropped first, so "\\x01=1" is quoted too.
    """
    text = clean_text(value)
    if text.startswith(FORMULA_PREFIXES):
        return text, style.quoted
    return text, style.plain


def excel_value(value: Any, zone: tzinfo | None = None) -> Any:
    """Convert a Python value to what a cell stores; aware datetimes become Beijing time
    (the display zone, or ``zone`` when the caller has looked it up already)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = to_local(value) if zone is None else value.astimezone(zone)
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, Decimal):
        return float(value)
    return value


# A slot is how one column writes its cells in a row: its plain format (resolved once), the
# style (for the quoted format), and whether an empty cell is still written (to carry a fill,
# a border or an unlocked input).
Slot = tuple[Format, Style, bool]


class Book:
    """A workbook written in constant memory to ``target`` (a path or a binary file), and its
    style registry. Use it as a context manager: the package is written on leaving it."""

    def __init__(self, target: str | IO[bytes]):
        self.workbook = xlsxwriter.Workbook(target, WORKBOOK_OPTIONS)
        self.styles = StyleRegistry(self.workbook)
        self._zone: tzinfo | None = None

    @property
    def zone(self) -> tzinfo:
        """The display zone, looked up once per workbook rather than once per time."""
        if self._zone is None:
            self._zone = local_zone()
        return self._zone

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def sheet(self, title: str, heading: str, columns: Sequence[Column], **options: Any) -> Sheet:
        """Add a worksheet (see :class:`Sheet`)."""
        return Sheet(self, title, heading, columns, **options)

    def close(self) -> None:
        """Finish the package and write it to the target given at creation."""
        self.workbook.close()


@dataclass(frozen=True)
class Masthead:
    """The title block a paper form opens with, above its table: the form number (表号) on
    the right, the title in 黑体, the sheet and quarter, and who filled it in (填报单位, 填报人,
    联系电话, 审核人, 填报日期) on one line, a blank to fill by hand where nothing is known."""

    title: str
    fields: tuple[tuple[str, str], ...]
    form: str = ""

    ROWS = 4  # form number, title, subtitle (the sheet's heading), fields

    def numbered(self, form: str) -> Masthead:
        """The same block with its form number (one per sheet)."""
        return replace(self, form=form)

    @property
    def fields_line(self) -> str:
        """``填报单位：民政部　　填报人：……``; an unknown value leaves a space to write in."""
        return "\u3000\u3000".join(
            f"{label}：{value or BLANK_TO_FILL}" for label, value in self.fields
        )


BLANK_TO_FILL = "\u3000" * 4  # room to write a name or a date by hand
# Printed, no text may come out smaller than this (points).
MIN_PRINTED_POINTS = 9.0
# A4 landscape between the sheets' margins (0.4 in left and right), in pixels at 96 dpi.
A4_LANDSCAPE_PIXELS = (297 / 25.4 - 0.8) * 96
DEFAULT_DIGIT_PIXELS = 7  # the workbook's default font (Calibri 11), which sets column units


def column_pixels(width: float) -> float:
    """The pixels Excel gives a column ``width`` character units wide."""
    return math.trunc(width * DEFAULT_DIGIT_PIXELS + 5)


def printed_scale(widths: Iterable[float]) -> float:
    """The scale at which a sheet fitted to one page's width prints (at most 100%)."""
    total = sum(column_pixels(width) for width in widths)
    return min(1.0, A4_LANDSCAPE_PIXELS / total) if total else 1.0


def _blanked(values: Sequence[Any], columns: Sequence[int], *, keep: bool) -> list[Any]:
    """``values`` with only ``columns`` kept (``keep``) or with those columns emptied."""
    return [value if (index in columns) == keep else None for index, value in enumerate(values)]


class _Fitted:
    """The default of :meth:`Sheet.row`'s ``height``: as high as the row's texts need."""


FITTED = _Fitted()


class Sheet:
    """One streamed worksheet: a title row naming what it is, then a table, ready to print.

    With ``table=True`` (the default) row 2 holds the headers, which are frozen, repeated on
    every printed page and carry an auto-filter over all data rows. A4 landscape, fitted to the
    page width (a sheet that is not a table, such as the overview, to one page), with
    "第 N 页，共 M 页" in the footer. Rows with wrapped text are as high as it needs
    (:func:`fitted_height`).
    """

    def __init__(
        self,
        book: Book,
        title: str,
        heading: str,
        columns: Sequence[Column],
        *,
        table: bool = True,
        protect: bool = False,
        sparse: bool | None = None,
        masthead: Masthead | None = None,
    ):
        self.book = book
        self.columns = list(columns)
        self.table = table
        self.filtered = table  # an auto-filter over the rows (not over merged blocks)
        self.masthead = masthead
        # 1-based, as Excel counts: the header row follows the title row or the masthead.
        self.header_row = (Masthead.ROWS if masthead is not None else TITLE_ROW) + 1
        # A sparse table writes no empty cells: its grid is printed instead of drawn on every
        # cell, which keeps large sheets close to a bare write in time and size. Sheets whose
        # empty cells carry something (unlocked inputs) are not sparse.
        self.sparse = table and not protect if sparse is None else sparse
        self.ws: Worksheet = book.workbook.add_worksheet(title)
        self.rows_written = 0
        self._forgotten = 0  # rows below this one: their heights are forgotten (_forget_behind)
        self._looks = [
            replace(column.look, border="") if self.sparse else column.look
            for column in self.columns
        ]
        self._slots = [self._slot(look) for look in self._looks]
        self._widths = [column.fitted_width for column in self.columns]
        # (index, units per line) of the columns whose text wraps, for the rows' heights.
        self._wrapped = [
            (index, _per_line(column.fitted_width))
            for index, column in enumerate(self.columns)
            if column.kind in WRAPPING and not column.hidden
        ]
        self._variants: dict[tuple[int, Paint | None, bool], Slot] = {}
        self._layout(protect)
        span = len(self.columns)
        if masthead is not None:
            self.cells([(masthead.form, MASTHEAD_FORM)], span=span)
            lines = masthead.title.count("\n") + 1
            self.cells([(masthead.title, MASTHEAD_TITLE)], height=22 * lines + 8, span=span)
            self.cells([(heading, MASTHEAD_SUBTITLE)], height=22, span=span)
            self.cells([(masthead.fields_line, MASTHEAD_FIELDS)], span=span)
        else:
            self.cells([(heading, TITLE)], height=30, span=span)
        if table:
            self.cells([(column.header, HEADER) for column in self.columns], height=32)

    def _layout(self, protect: bool) -> None:
        ws = self.ws
        for index, column in enumerate(self.columns):
            ws.set_column(index, index, column.fitted_width, None, {"hidden": column.hidden})
        if self.table:
            ws.freeze_panes(self.header_row, 0)
            # A masthead is printed once, on the first page; the header on every page.
            first_repeated = self.header_row - 1 if self.masthead is not None else TITLE_ROW - 1
            ws.repeat_rows(first_repeated, self.header_row - 1)
        ws.set_landscape()
        ws.set_paper(A4)
        ws.fit_to_pages(1, 0 if self.table else 1)  # a form fits on one page
        ws.center_horizontally()
        if self.sparse:
            ws.hide_gridlines(0)  # 0: hide nothing, so the grid is printed too
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.7)
        ws.set_footer("&C第 &P 页，共 &N 页", {"margin": 0.3})
        if protect:
            # Liaisons may still resize rows and columns and select every cell.
            ws.protect("", {"format_rows": True, "format_columns": True})

    @property
    def first_data_row(self) -> int:
        """The 1-based number of the first row below the header."""
        return self.header_row + 1

    @property
    def next_row(self) -> int:
        """The 1-based number of the row the next append writes."""
        return self.rows_written + 1

    def _slot(self, look: Look) -> Slot:
        """The look's format and style, and whether an empty cell must still be written."""
        style = self.book.styles.style(look)
        return style.plain, style, not self.sparse or look.fill is not None

    def cells(
        self,
        pairs: Iterable[tuple[Any, Look | None]],
        *,
        height: float | None = None,
        span: int | None = None,
    ) -> None:
        """Append one row of ``(value, look)`` pairs (a look of None leaves the cell empty).

        Without a ``height``, the row is as high as its wrapped texts need. With ``span``,
        the first cell is merged across that many columns.
        """
        pairs = list(pairs)
        if height is None:
            widths = [self._per_line_of(index, span) for index in range(len(pairs))]
            height = fitted_height(
                (value, per_line)
                for (value, look), per_line in zip(pairs, widths, strict=True)
                if look is not None and look.kind in WRAPPING
            )
        row = self._start_row(height)
        first_look = pairs[0][1] if pairs else None
        if span is not None and span > 1 and first_look is not None:
            self.ws.merge_range(row, 0, row, span - 1, "", self.book.styles.style(first_look).plain)
        for column, (value, look) in enumerate(pairs):
            if look is not None:
                self._write(row, column, value, self._slot(look))

    def spans(self, parts: Sequence[tuple[Any, Look | None, int]], *, height: float) -> None:
        """Append one row of ``(value, look, columns)`` parts, each merged across its columns
        (a look of None leaves its columns empty): a form's lines to sign or date."""
        row = self._start_row(height)
        column = 0
        for value, look, width in parts:
            if look is not None:
                cell_format = self.book.styles.style(look).plain
                if width > 1:
                    self.ws.merge_range(row, column, row, column + width - 1, None, cell_format)
                self._write(row, column, value, self._slot(look))
            column += width

    def _per_line_of(self, index: int, span: int | None) -> float:
        if index >= len(self._widths):
            return _per_line(self._widths[-1])
        if index == 0 and span:
            return _per_line(sum(self._widths[:span]))
        return _per_line(self._widths[index])

    def row(
        self,
        values: Sequence[Any],
        paints: dict[int, Paint] | None = None,
        *,
        locked: bool = False,
        locked_columns: Collection[int] = (),
        height: float | _Fitted | None = FITTED,
    ) -> None:
        """Append one table row.

        ``paints`` maps column indexes (0-based) to a (fill, font colour) pair; ``locked``
        locks every cell of the row, input columns included, ``locked_columns`` only these.
        The row is as high as its wrapped texts need unless a ``height`` (points, or None for
        the default) is given.
        """
        slots = self._slots
        if locked_columns and not locked:
            paints = paints or {}
            slots = [
                self._variant(index, paints.get(index), True) if index in locked_columns
                else self._variant(index, paints.get(index), False) if index in paints
                else slot
                for index, slot in enumerate(slots)
            ]  # fmt: skip
        elif locked:
            paints = paints or {}
            slots = [self._variant(index, paints.get(index), True) for index in range(len(slots))]
        elif paints:
            slots = list(slots)
            for index, paint in paints.items():
                slots[index] = self._variant(index, paint, False)
        row = self._start_row(self._row_height(values) if isinstance(height, _Fitted) else height)
        ws = self.ws
        write_string, write_number, write_blank = ws.write_string, ws.write_number, ws.write_blank
        # The hot loop of every export: strings (safe_text, inlined) and whole numbers are
        # written here without a further call of ours; anything else goes through _write.
        for column, (value, slot) in enumerate(zip(values, slots, strict=True)):
            kind = type(value)
            if kind is str and value:
                if NEEDS_CLEANING.search(value) is not None or len(value) > MAX_CELL_CHARS:
                    value = clean_text(value)
                if value.startswith(FORMULA_PREFIXES):
                    write_string(row, column, value, slot[1].quoted)
                else:
                    write_string(row, column, value, slot[0])
            elif kind is int:
                write_number(row, column, value, slot[0])
            elif value is None or kind is str:
                if slot[2]:
                    write_blank(row, column, None, slot[0])
            else:
                self._write(row, column, value, slot)

    def block(
        self,
        rows: Sequence[Sequence[Any]],
        merged: Sequence[int],
        paints: Sequence[dict[int, Paint] | None],
    ) -> None:
        """Append the rows of one item, the ``merged`` columns (0-based) merged down the block
        and showing the first row's values (the later rows' values there are not written).

        Written in row order, as constant memory needs: each merge is registered before its
        first row (with no cell of its own), the first row then writes the merged values, and
        the later rows write the merged columns' formats only, so that borders run round the
        block. The rows share the height the merged texts need.
        """
        if len(rows) == 1:
            self.row(rows[0], paints[0])
            return
        merged = sorted(merged)
        first = self.rows_written
        last = first + len(rows) - 1
        own = [self._row_height(_blanked(values, merged, keep=False)) for values in rows]
        needed = self._row_height(_blanked(rows[0], merged, keep=True))
        # Every row's height is set: a reader fitting rows itself (LibreOffice) would
        # otherwise grow the first row to hold the whole merged text.
        heights = [height or LINE_POINTS + ROW_PADDING_POINTS for height in own]
        if needed is not None and needed > sum(heights):
            extra = (needed - sum(heights)) / len(rows)
            heights = [height + extra for height in heights]
        for column in merged:
            self.ws.merge_range(first, column, last, column, None, None)
        for index, values in enumerate(rows):
            if index == 0:
                self.row(values, paints[index], height=heights[index])
                continue
            # None in a merged column still writes its format where the sheet draws borders.
            self.row(_blanked(values, merged, keep=False), paints[index], height=heights[index])

    def look_of(self, index: int) -> Look:
        """The look of column ``index``'s data cells as this sheet writes them."""
        return self._looks[index]

    def height_of(self, values: Sequence[Any]) -> float | None:
        """The height (points) a table row of ``values`` needs; None when one line is enough."""
        return self._row_height(values)

    def _row_height(self, values: Sequence[Any]) -> float | None:
        """:func:`fitted_height` of a table row, looking only at texts that may wrap."""
        lines = 1
        for index, per_line in self._wrapped:
            value = values[index]
            if type(value) is not str:
                continue
            if "\n" in value:
                lines = max(lines, _lines(value, per_line))
            elif 2 * len(value) > per_line:  # _lines, inlined for one paragraph
                units = (len(value) + len(value.encode("utf-8", "replace"))) / 2
                lines = max(lines, math.ceil(units / per_line))
        if lines <= 1:
            return None
        return min(lines * LINE_POINTS + ROW_PADDING_POINTS, MAX_ROW_POINTS)

    def _write(self, row: int, column: int, value: Any, slot: Slot) -> None:
        """Write one value (0-based position) with the method that keeps its type."""
        plain, style, keep_empty = slot
        if isinstance(value, str) and value:
            text, cell_format = safe_text(value, style)
            self.ws.write_string(row, column, text, cell_format)
            return
        if isinstance(value, datetime):
            value = excel_value(value, self.book.zone if value.tzinfo is not None else None)
        elif isinstance(value, Decimal):
            value = float(value)
        if isinstance(value, float) and not math.isfinite(value):
            value = None  # NaN or infinity: no number at all
        if value is None or value == "":
            if keep_empty:
                self.ws.write_blank(row, column, None, plain)
        elif type(value) in (int, float):
            self.ws.write_number(row, column, value, plain)
        elif isinstance(value, date):
            self.ws.write_datetime(row, column, value, plain)
        else:
            raise TypeError(f"a workbook cell cannot hold {type(value).__name__}: {value!r}")

    def _variant(self, index: int, paint: Paint | None, locked: bool) -> Slot:
        key = (index, paint, locked)
        found = self._variants.get(key)
        if found is None:
            look = self._looks[index]
            if paint is not None:
                look = replace(look, fill=paint[0], color=paint[1])
            if locked:
                look = replace(look, locked=True)
            found = self._variants[key] = self._slot(look)
        return found

    def _start_row(self, height: float | None) -> int:
        """Count a new row (0-based index returned), setting its height before any cell."""
        row = self.rows_written
        if height is not None:
            # Rounded up to a whole pixel, so that rounding never cuts a line off.
            pixels = min(math.ceil(height / POINTS_PER_PIXEL - 1e-9), MAX_ROW_PIXELS)
            self.ws.set_row_pixels(row, pixels)
        self.rows_written += 1
        self._forget_behind(row)
        return row

    def _forget_behind(self, row: int) -> None:
        """Let XlsxWriter forget what it keeps of the rows already written out.

        In constant-memory mode a row goes to the file as soon as a later one is written, but
        XlsxWriter keeps every row's height (``row_info``, ``row_sizes``) and every merged
        cell (``merged_cells``, to refuse overlapping merges) until the workbook closes, so a
        sheet's memory grew with its rows. Rows are written strictly downwards and every
        merge starts on the row being written, so no later merge can overlap an earlier one:
        the merged cells are dropped at each new row. Heights are dropped for rows before the
        last one written out (``previous_row``), on table sheets only: a chart (the
        overview's) is placed from the heights of the rows it covers.
        """
        self.ws.merged_cells.clear()
        if not self.table:
            return
        written = self.ws.previous_row
        for old in range(self._forgotten, written):
            self.ws.row_info.pop(old, None)
            self.ws.row_sizes.pop(old, None)
        self._forgotten = max(self._forgotten, written)

    def blank(self, height: float | None = None) -> None:
        """An empty spacer row."""
        self._start_row(height)

    def finish(self) -> None:
        """Set the auto-filter over the header and every data row written."""
        if self.table and self.filtered:
            last = max(self.rows_written, self.header_row)
            self.ws.autofilter(self.header_row - 1, 0, last - 1, len(self.columns) - 1)
