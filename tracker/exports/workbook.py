"""Writing .xlsx files: streamed sheets, shared styles, print settings, and text that stays text.

Every workbook the application produces is written here, in openpyxl's write-only mode: rows go
to a temporary file as they are appended, so memory does not grow with the row count. Column
widths, frozen panes, hidden columns and row heights are therefore fixed before the first row,
and each cell carries a style shared through a small registry (one lookup per distinct look).

Safety: spreadsheet cells from users are text. Every ``str`` written goes through
:func:`safe_text`, which stores it as an inline string — never a formula, whatever its first
character — and gives a value starting with ``= + - @``, a tab or a line break Excel's quote
prefix, so that it stays text even after someone edits the cell in Excel.

Speed: openpyxl spends most of a write-only save on each cell: a cell object, a style lookup,
an XML element tree of three nodes and a namespace-aware serialisation per cell. Here a cell is
prepared once as an entry — (value, data type, style, style id) — whose style is registered in
advance, and :class:`_StreamedSheet` writes each row's ``<row>`` element as one string straight
into openpyxl's stream, byte for byte what openpyxl itself would write for the same cells
(:func:`row_xml`). Everything else — the sheet's head and tail, styles, charts, validation,
print settings, the zip package — is openpyxl's. Where the stream is not the standard library
writer (openpyxl with lxml installed) the rows go through openpyxl's own cell writer instead.
This relies on openpyxl 3.1's write-only internals (``_write_rows``, ``Workbook._add_sheet``,
``_cell_styles``), hence the ``<3.2`` pin in setup.cfg; tests/exports/test_workbook.py checks
that both ways write the same bytes, and reads every kind of cell back.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties

from tracker.db import to_local

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
MAX_CELL_CHARS = 32_767  # Excel's limit per cell
FONT_NAME = "宋体"
HEADER_FILL = "D9E1F2"
TITLE_ROW, HEADER_ROW = 1, 2
FIRST_DATA_ROW = 3
A4 = "9"  # paperSize code

NUMBER_FORMATS = {
    "int": "0",
    "decimal": "0.0",
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
# Only these types reach a cell (strings go through safe_text); anything else is a bug.
_DATA_TYPES = {int: "n", float: "n", date: "d", datetime: "d"}
Entry = tuple[Any, str, StyleArray, int]  # (value, data type, style, style id) of one cell
Paint = tuple[str, str | None]  # (fill, font colour), RGB hex
CENTERED = {"int", "decimal", "percent", "date", "datetime", "center"}
WRAPPING = frozenset({"wrap", "center", "text"})  # kinds whose alignment wraps (_alignment)
# Row heights, in points, for wrapped 10.5 pt 宋体: per line, padding, and Excel's maximum.
LINE_POINTS, ROW_PADDING_POINTS, MAX_ROW_POINTS = 14.0, 4.0, 409.0


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
    return math.ceil((len(text) + len(text.encode())) / 2 / per_line)


def fitted_height(cells: Iterable[tuple[Any, float]]) -> float | None:
    """The height (points) at which a row shows each of its wrapped ``(value, units per
    line)`` cells whole; None when one line is enough.

    Written without ``customHeight``, so that Excel still fits the row anew once someone
    edits it; readers that do not fit rows on their own (LibreOffice) print it whole.
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
    control characters XML cannot carry, at most 32,767 characters."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_CELL_CHARS]


def needs_quote_prefix(text: str) -> bool:
    """Would Excel (or another reader) take this text for a formula or a command?"""
    return text.startswith(FORMULA_PREFIXES)


@dataclass(frozen=True)
class Look:
    """How a cell looks: its kind (number format and alignment), fill, font and protection."""

    kind: str = "text"  # text | wrap | center | int | decimal | percent | date | datetime
    fill: str | None = None  # RGB hex, e.g. "FDE2DF"
    color: str | None = None  # the font's RGB hex
    bold: bool = False
    size: float = 10.5
    locked: bool = True
    border: str = "ltrb"  # the sides that have a thin line: left, top, right, bottom


TITLE = Look("center", bold=True, size=14, border="")
SUBTITLE = Look("text", border="")
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
        """The configured width, widened so that the header fits on one line."""
        return max(self.width, display_width(self.header) + 3)

    @property
    def look(self) -> Look:
        return Look(self.kind, fill=self.fill, locked=self.locked)


class Style:
    """A look registered with the workbook: its style array and index, plain and quoted.

    The quoted variant (Excel's quote prefix, for formula-like text) is registered only when
    a cell first needs it.
    """

    __slots__ = ("_quoted", "_registry", "array", "id", "look")

    def __init__(self, registry: StyleRegistry, look: Look):
        self._registry, self.look, self._quoted = registry, look, None
        self.array, self.id = registry.register(look, quoted=False)

    @property
    def quoted(self) -> tuple[StyleArray, int]:
        if self._quoted is None:
            self._quoted = self._registry.register(self.look, quoted=True)
        return self._quoted


class StyleRegistry:
    """One registered style per distinct look, built once and then shared by every cell."""

    _side = Side(style="thin", color="808080")

    def __init__(self, workbook: Workbook):
        self.workbook = workbook
        # Style descriptors only need ``cell.parent.parent`` to reach the workbook's tables.
        self._owner = SimpleNamespace(parent=workbook)
        self._styles: dict[Look, Style] = {}

    def style(self, look: Look) -> Style:
        found = self._styles.get(look)
        if found is None:
            found = self._styles[look] = Style(self, look)
        return found

    def register(self, look: Look, *, quoted: bool) -> tuple[StyleArray, int]:
        """Build the look's style array and add it to the workbook's cell formats."""
        array = self._build(look, quoted)
        # The index the writer would look up for every cell, looked up once here.
        return array, self.workbook._cell_styles.add(array)

    def _build(self, look: Look, quoted: bool) -> StyleArray:
        cell = Cell(self._owner)
        cell.font = _font(look.size, look.bold, look.color)
        cell.alignment = _alignment(look.kind, look.bold)
        if look.border:
            cell.border = _border(look.border)
        if look.fill:
            cell.fill = PatternFill("solid", fgColor=look.fill)
        if look.kind in NUMBER_FORMATS:
            cell.number_format = NUMBER_FORMATS[look.kind]
        if not look.locked:
            cell.protection = Protection(locked=False)
            if look.kind not in NUMBER_FORMATS:
                # "Text" format: what a liaison types stays text, even "=…" or "0012".
                cell.number_format = "@"
        if quoted:
            cell.quotePrefix = True
        return cell._style


@functools.cache
def _font(size: float, bold: bool, color: str | None) -> Font:
    return Font(name=FONT_NAME, size=size, bold=bold, color=color)


@functools.cache
def _alignment(kind: str, bold: bool) -> Alignment:
    return Alignment(
        horizontal="center" if kind in CENTERED else "left",
        vertical="center" if kind in CENTERED or bold else "top",
        wrap_text=kind in ("wrap", "center", "text"),
    )


@functools.cache
def _border(sides: str) -> Border:
    names = {"l": "left", "t": "top", "r": "right", "b": "bottom"}
    line = StyleRegistry._side
    return Border(**{names[side]: line for side in sides if side in names})


def safe_text(value: str, style: Style) -> Entry:
    """A cell entry holding ``value`` as text: never a formula, whatever the value starts with.

    The entry is bound with data type "s" (an inline string), so that nothing — neither
    openpyxl, which would store a string starting with "=" as a formula, nor Excel — reads it
    as a formula; a value Excel could take for a formula or command (= + - @, a tab or a line
    break first) also gets the quote prefix. Control characters XML cannot carry are dropped.
    """
    text = clean_text(value)
    if needs_quote_prefix(text):
        return (text, "s", *style.quoted)
    return text, "s", style.array, style.id


def excel_value(value: Any) -> Any:
    """Convert a Python value to what a cell stores; aware datetimes become Beijing time."""
    if isinstance(value, datetime):
        local = to_local(value) if value.tzinfo is not None else value
        return local.replace(tzinfo=None, microsecond=0)
    if isinstance(value, Decimal):
        return float(value)
    return value


class _StyledCell(Cell):
    """A cell whose style index is known in advance (see :class:`StyleRegistry`)."""

    __slots__ = ("_style_id",)

    @property
    def style_id(self) -> int:
        return self._style_id

    @property
    def has_style(self) -> bool:
        return self._style_id != 0


def _escape_text(text: str) -> str:
    """Character data as the standard library's XML writer escapes it."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _escape_attribute(text: str) -> str:
    text = _escape_text(text)
    for char, escaped in (('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;")):
        if char in text:
            text = text.replace(char, escaped)
    return text


def _number(value: float) -> str:
    """A number as openpyxl writes it (``safe_string``): 16 significant digits."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return ""
    return "%.16g" % value  # noqa: UP031 - the exact format openpyxl uses


@functools.cache
def _column_letter(column: int) -> str:
    return get_column_letter(column)


def row_xml(entries: Sequence[Entry | None], row_idx: int, attributes=(), epoch=None) -> str:
    """The ``<row>`` element of one row of entries, exactly as openpyxl 3.1 would write it.

    ``attributes`` are the row's dimension pairs (height); ``epoch`` the workbook's date epoch.
    Strings are inline (``t="inlineStr"``), keep leading and trailing spaces
    (``xml:space="preserve"``) and are escaped; dates become serial numbers.
    """
    r = str(row_idx)
    head = "".join(f' {key}="{_escape_attribute(value)}"' for key, value in attributes)
    parts = [f'<row r="{r}"{head}>']
    for column, entry in enumerate(entries, start=1):
        if entry is None:
            continue
        value, data_type, _, style_id = entry
        ref = _column_letter(column) + r
        styled = f' s="{style_id}"' if style_id else ""
        if data_type == "s":
            if value is None or value == "":
                parts.append(f'<c r="{ref}"{styled} t="inlineStr" />')
                continue
            stripped = value.strip()
            space = ' xml:space="preserve"' if stripped and stripped != value else ""
            parts.append(
                f'<c r="{ref}"{styled} t="inlineStr"><is><t{space}>{_escape_text(value)}</t>'
                "</is></c>"
            )
            continue
        if data_type == "d":
            data_type = "n"
            if value is not None:
                value = to_excel(value, epoch)
        if value is None:
            parts.append(f'<c r="{ref}"{styled} t="{data_type}" />')
            continue
        text = _number(value)
        content = f"<v>{text}</v>" if text else "<v />"
        parts.append(f'<c r="{ref}"{styled} t="{data_type}">{content}</c>')
    parts.append("</row>")
    return "".join(parts)


def _raw_writer(xf):
    """The stream's write function where it is the standard library writer (et_xmlfile 2)."""
    write = getattr(xf, "_file", None) if DIRECT_ROWS else None
    return write if callable(write) else None


DIRECT_ROWS = True  # False: every row through openpyxl's cell writer (tests compare the two)


class _FittedRow(RowDimension):
    """A row height that is an estimate, not a choice: no ``customHeight`` is written."""

    @property
    def customHeight(self) -> bool:  # openpyxl's attribute name
        return False


class _StreamedSheet(WriteOnlyWorksheet):
    """A write-only worksheet whose rows are ``(value, data type, style, style id)`` entries.

    The entries are already checked (strings by :func:`safe_text`) and their styles
    registered, so each row is written as one string (:func:`row_xml`). Without direct
    access to the stream, one reusable cell carries the entries to openpyxl's writer, as
    openpyxl does for unstyled values. ``fitted_height`` is the next row's estimated height,
    if it needs one: it is written with the row and kept nowhere (row dimensions would
    grow with the row count).
    """

    fitted_height: float | None = None

    def _write_rows(self):
        try:
            xf = self._writer.xf.send(True)
        except StopIteration:
            self._already_saved()
        write = _raw_writer(xf)
        dims, epoch = self.row_dimensions, self.parent.epoch
        with xf.element("sheetData"):
            row_idx = 1
            try:
                while True:
                    entries = yield
                    height, self.fitted_height = self.fitted_height, None
                    if write is None:
                        self._write_through_openpyxl(xf, entries, row_idx, height)
                    elif row_idx in dims or height is None:
                        write(row_xml(entries, row_idx, dims.get(row_idx, ()), epoch))
                    else:
                        write(row_xml(entries, row_idx, (("ht", _number(height)),), epoch))
                    row_idx += 1
            except GeneratorExit:
                pass
        self._writer.xf.send(None)

    def _write_through_openpyxl(self, xf, entries, row_idx: int, height: float | None) -> None:
        fitted = height is not None and row_idx not in self.row_dimensions
        if fitted:
            self.row_dimensions[row_idx] = _FittedRow(self, index=row_idx, ht=height)
        try:
            self._writer.write_row(xf, self._values_to_row(entries, row_idx), row_idx)
        finally:
            if fitted:
                del self.row_dimensions[row_idx]

    def _values_to_row(self, values, row_idx):
        cell = _StyledCell(self, row=row_idx, column=1)
        for column, entry in enumerate(values, start=1):
            if entry is None:
                continue
            cell._value, cell.data_type, cell._style, cell._style_id = entry
            cell.column = column
            yield cell


class Book:
    """A write-only workbook and its style registry."""

    def __init__(self):
        self.workbook = Workbook(write_only=True)
        self.styles = StyleRegistry(self.workbook)

    def sheet(self, title: str, heading: str, columns: Sequence[Column], **options) -> Sheet:
        return Sheet(self, title, heading, columns, **options)

    def save(self, target: str | IO[bytes]) -> None:
        self.workbook.save(target)


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
    ):
        self.book = book
        self.columns = list(columns)
        self.table = table
        # A sparse table writes no empty cells: its grid is printed (gridLines) instead of
        # drawn on every cell, which keeps large sheets close to a bare write in time and
        # size. Sheets whose empty cells carry something (unlocked inputs) are not sparse.
        self.sparse = table and not protect if sparse is None else sparse
        self.ws = _StreamedSheet(parent=book.workbook, title=title)
        book.workbook._add_sheet(self.ws)
        self.rows_written = 0
        self._looks = [
            replace(column.look, border="") if self.sparse else column.look
            for column in self.columns
        ]
        self._column_styles = [self._styled(look) for look in self._looks]
        self._widths = [column.fitted_width for column in self.columns]
        # (index, units per line) of the columns whose text wraps, for the rows' heights.
        self._wrapped = [
            (index, _per_line(column.fitted_width))
            for index, column in enumerate(self.columns)
            if column.kind in WRAPPING and not column.hidden
        ]
        self._variants: dict[tuple, tuple[Style, bool]] = {}
        self._last_column = get_column_letter(len(self.columns))
        self._layout(protect)
        self.cells([(heading, TITLE)], height=30)
        self.ws.merged_cells.add(f"A{TITLE_ROW}:{self._last_column}{TITLE_ROW}")
        if table:
            self.cells([(column.header, HEADER) for column in self.columns], height=32)

    def _layout(self, protect: bool) -> None:
        ws = self.ws
        for index, column in enumerate(self.columns, start=1):
            dimension = ws.column_dimensions[get_column_letter(index)]
            dimension.width = column.fitted_width
            dimension.hidden = column.hidden
        if self.table:
            ws.freeze_panes = f"A{FIRST_DATA_ROW}"
            ws.print_title_rows = f"{TITLE_ROW}:{HEADER_ROW}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0 if self.table else 1  # a form fits on one page
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.print_options.horizontalCentered = True
        ws.print_options.gridLines = self.sparse
        ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.7, footer=0.3)
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"
        if protect:
            protection = ws.protection
            protection.sheet = True
            # Liaisons may still resize rows and columns and select every cell.
            protection.formatRows = protection.formatColumns = False

    @property
    def next_row(self) -> int:
        return self.rows_written + 1

    def _styled(self, look: Look) -> tuple[Style, bool]:
        """The look's style, and whether an empty cell in it must still be written."""
        return self.book.styles.style(look), not self.sparse or look.fill is not None

    def _entry(self, value: Any, styled: tuple[Style, bool]) -> Entry | None:
        """The entry for one value; strings always go through :func:`safe_text`."""
        style, keep_empty = styled
        if isinstance(value, str):
            if value:
                return safe_text(value, style)
            value = None  # an empty string is an empty cell
        if value is None:
            return (None, "n", style.array, style.id) if keep_empty else None
        kind = type(value)
        if kind is datetime or kind is Decimal:
            value = excel_value(value)
            kind = type(value)
        return value, _DATA_TYPES[kind], style.array, style.id

    def cells(self, pairs: Iterable[tuple[Any, Look | None]], *, height: float | None = None):
        """Append one row of ``(value, look)`` pairs (a look of None leaves the cell empty).

        Without a ``height``, the row is as high as its wrapped texts need."""
        pairs = list(pairs)
        entries = [
            None if look is None else self._entry(value, self._styled(look))
            for value, look in pairs
        ]
        fitted = None
        if height is None:
            fitted = fitted_height(
                (value, _per_line(width))
                for (value, look), width in zip(pairs, self._widths, strict=False)
                if look is not None and look.kind in WRAPPING
            )
        self._append(entries, height, fitted)

    def row(
        self,
        values: Sequence[Any],
        paints: dict[int, Paint] | None = None,
        *,
        locked: bool = False,
    ) -> None:
        """Append one table row.

        ``paints`` maps column indexes (0-based) to a (fill, font colour) pair; ``locked``
        locks every cell of the row, input columns included.
        """
        styles = self._column_styles
        if locked:
            styles = [
                self._variant(index, (paints or {}).get(index), True)
                for index in range(len(styles))
            ]
        elif paints:
            styles = list(styles)
            for index, paint in paints.items():
                styles[index] = self._variant(index, paint, False)
        entry = self._entry
        entries = [entry(v, s) for v, s in zip(values, styles, strict=True)]
        wrapped = ((values[index], per_line) for index, per_line in self._wrapped)
        self._append(entries, fitted=fitted_height(wrapped))

    def _variant(self, index: int, paint: Paint | None, locked: bool) -> tuple[Style, bool]:
        key = (index, paint, locked)
        found = self._variants.get(key)
        if found is None:
            look = self._looks[index]
            if paint is not None:
                look = replace(look, fill=paint[0], color=paint[1])
            if locked:
                look = replace(look, locked=True)
            found = self._variants[key] = self._styled(look)
        return found

    def _append(
        self, entries: list, height: float | None = None, fitted: float | None = None
    ) -> None:
        """Append a row: ``height`` is chosen (kept as custom), ``fitted`` estimated."""
        if height is not None:
            self.ws.row_dimensions[self.next_row].height = height
        self.ws.fitted_height = fitted
        self.ws.append(entries)
        self.rows_written += 1

    def blank(self, height: float | None = None) -> None:
        """An empty spacer row."""
        if height is not None:
            self.ws.row_dimensions[self.next_row].height = height
        self.ws.append([])
        self.rows_written += 1

    def merge(self, first_row: int, last_row: int, first_col: int, last_col: int) -> None:
        """Merge a block (1-based, inclusive); written with the sheet's tail."""
        if (first_row, first_col) == (last_row, last_col):
            return
        self.ws.merged_cells.add(
            f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row}"
        )

    def finish(self) -> None:
        """Set the auto-filter over the header and every data row written."""
        if self.table:
            last = max(self.rows_written, HEADER_ROW)
            self.ws.auto_filter.ref = f"A{HEADER_ROW}:{self._last_column}{last}"
