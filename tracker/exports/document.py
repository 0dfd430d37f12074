"""Writing .docx documents laid out by GB/T 9704-2012 (党政机关公文格式), with python-docx.

:class:`OfficialDocument` is written top to bottom, one call per element of the standard: the
title (:meth:`~OfficialDocument.title`), the 主送机关 line, body paragraphs and the two upper
heading levels, the 附件说明 block, the 发文机关署名 with the 成文日期, and each attachment on
a new page with its own tables. :meth:`~OfficialDocument.save` writes it to a path (atomically)
or into a binary file.

What the standard sets, and where it is done here:

* **Page** (5.2, 5.2.1): A4, 版心 156 × 225 mm; 天头 (top margin) 37 mm, 订口 (left) 28 mm,
  hence bottom 35 mm and right 26 mm (:data:`MARGINS_MM`). 22 lines a page (5.2.2):
  body paragraphs have an exact line height of 28.95 pt (225 mm / 22). No document grid: a
  line holds 27 characters of 3号 (16 pt × 28 is 6 pt wider than 156 mm), and renderers
  disagree on a grid's character pitch.
* **Fonts** (:data:`FACES`): 标题 2号 (22 pt) 小标宋体, body 3号 (16 pt) 仿宋体, 一级标题 "一、"
  黑体, 二级标题 "（一）" 楷体, 附件 mark 3号黑体, page numbers 4号 (14 pt) 宋体. Each role names
  a chain of fonts, the standard's first: Word and WPS substitute a font that is missing on the
  reader's computer, so the file names one font per role, and ``fallback=1`` (or 2) writes the
  next font of each chain instead, for computers that lack the government fonts
  (方正小标宋简体 → 华文中宋 → 宋体; 仿宋_GB2312 → 仿宋 → FangSong; 黑体 → SimHei;
  楷体_GB2312 → 楷体 → KaiTi). python-docx's ``font.name`` sets only the Latin fonts
  (``w:ascii``/``w:hAnsi``); Chinese text is drawn with ``w:eastAsia``, which is set here too.
* **Title** (7.3.3) centred, may run to several lines; **主送机关** (7.3.3) the line below a
  blank line, flush left, ending in a full-width colon; **body** (7.3.4) paragraphs indented
  two characters, lines wrapping flush left.
* **附件说明** (7.3.4): below the body, after a blank line, two characters in: "附件：1.…",
  further attachments on the next lines aligned with the "1." and a long name wrapping under
  its own first character (hanging indents); no punctuation after a name. A single attachment
  has no number ("附件：…").
* **署名 and 成文日期** (7.3.5.1, a document to be sealed): the date in Arabic numerals with the
  year in full and no leading zeros (2026年12月3日), four characters from the right; the
  issuing body's name centred above the date.
* **Page numbers** (7.5): "— 1 —", 4号 half-width 宋体, one em dash each side, at the outer
  edge: odd pages on the right, even pages on the left, one character in from the 版心's edge
  (the standard's rule for a document printed on both sides), about 7 mm below the 版心.
* **Attachments** (8): each on a new page; "附件1" in 3号黑体 at the top left, the title centred
  on the next line, then its content.
* **Tables**: every cell bordered ("Table Grid"), the header row repeated on each page, rows
  never split across pages.

Text is always text: each string goes through :func:`tracker.exports.workbook.clean_text`
(characters XML cannot carry are dropped) and into a run's text, never into a field code; the
one field in the file is the footer's page number. python-docx has no call for the East Asian
font, the document grid, a repeated header row or a page-number field, so those few elements
are added with ``docx.oxml`` (``OxmlElement``, ``qn``) on the elements python-docx exposes
publicly (``Document.element``, ``Run.element``, ``ParagraphFormat.element``, ``style.element``).
"""

from __future__ import annotations

import copy
import enum
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import docx
from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, Twips
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from tracker.exports.files import write_atomically
from tracker.exports.workbook import clean_text

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

PAGE_MM = (210.0, 297.0)  # A4


@dataclass(frozen=True)
class Margins:
    """Page margins in millimetres."""

    top: float
    bottom: float
    left: float
    right: float


# 版心 156 × 225 mm: 210 - 28 - 26 = 156, 297 - 37 - 35 = 225.
MARGINS_MM = Margins(top=37.0, bottom=35.0, left=28.0, right=26.0)
LINES_PER_PAGE = 22
# 225 mm / 22 lines = 28.99 pt; Word's own 公文 grid rounds it to 579 twips (28.95 pt).
LINE_PITCH = Twips(579)
# Footer's distance from the page's lower edge: its 14 pt line then starts about 7 mm below
# the 版心 (35 mm margin - 7 mm - the line's height).
FOOTER_DISTANCE = Mm(22)

# 字号 in points.
SIZE_2, SIZE_3, SIZE_4, SIZE_SMALL_4, SIZE_5 = 22.0, 16.0, 14.0, 12.0, 10.5


class Part(enum.StrEnum):
    """What a piece of text is in the document: it decides its font and size."""

    TITLE = "title"  # 标题, and each attachment's title
    BODY = "body"  # 正文, 主送机关, 附件说明, 署名, 成文日期
    HEADING_1 = "heading_1"  # 一、
    HEADING_2 = "heading_2"  # （一）
    ATTACHMENT_MARK = "attachment_mark"  # 附件1, top left of an attachment
    TABLE_HEADER = "table_header"
    TABLE = "table"
    PAGE_NUMBER = "page_number"


@dataclass(frozen=True)
class Face:
    """A part's font: a chain of names (the standard's font first, then fallbacks), a size in
    points and the weight."""

    chain: tuple[str, ...]
    size: float
    bold: bool = False

    def name(self, fallback: int = 0) -> str:
        """The font of the chain at ``fallback`` (0: the standard's), the last if it is short."""
        return self.chain[min(fallback, len(self.chain) - 1)]


TITLE_FONTS = ("方正小标宋简体", "华文中宋", "宋体")
BODY_FONTS = ("仿宋_GB2312", "仿宋", "FangSong")
HEI_FONTS = ("黑体", "SimHei")
KAI_FONTS = ("楷体_GB2312", "楷体", "KaiTi")
SONG_FONTS = ("宋体", "SimSun")
FACES: dict[Part, Face] = {
    Part.TITLE: Face(TITLE_FONTS, SIZE_2),
    Part.BODY: Face(BODY_FONTS, SIZE_3),
    Part.HEADING_1: Face(HEI_FONTS, SIZE_3),
    Part.HEADING_2: Face(KAI_FONTS, SIZE_3),
    Part.ATTACHMENT_MARK: Face(HEI_FONTS, SIZE_3),
    # The standard sets no size for tables; 小四 keeps nine columns readable in 156 mm.
    Part.TABLE_HEADER: Face(HEI_FONTS, SIZE_SMALL_4),
    Part.TABLE: Face(BODY_FONTS, SIZE_SMALL_4),
    Part.PAGE_NUMBER: Face(SONG_FONTS, SIZE_4),
}
ALIGNMENTS = {
    "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
}
EM_DASH = "\u2014"  # 一字线


@dataclass(frozen=True)
class TableColumn:
    """A table column: its header, width in millimetres and the alignment of its cells."""

    title: str
    width_mm: float
    align: str = "center"  # justify | left | center | right


def chinese_date(day: date) -> str:
    """成文日期 as GB/T 9704-2012 7.3.5.1 writes it: Arabic numerals, the year in full, no
    leading zeros (``2026年12月3日``)."""
    return f"{day.year}年{day.month}月{day.day}日"


DIGITS = "〇一二三四五六七八九"


def chinese_number(number: int) -> str:
    """``一``, ``十一``, ``二十三``, ``一百零五``: the numerals of 一、 and （一） headings."""
    if number < 1:
        raise ValueError("headings are numbered from 1")
    if number >= 1000:
        return str(number)
    hundreds, rest = divmod(number, 100)
    tens, ones = divmod(rest, 10)
    text = f"{DIGITS[hundreds]}百" if hundreds else ""
    if tens:
        text += ("" if tens == 1 and not hundreds else DIGITS[tens]) + "十"
    elif hundreds and ones:
        text += "零"
    if ones:
        text += DIGITS[ones]
    return text


def text_width(text: str) -> float:
    """Width of ``text`` in characters of its font: a half-width character counts one half."""
    return sum(0.5 if ord(ch) < 0x2E80 and ch != EM_DASH else 1.0 for ch in text)


class OfficialDocument:
    """A document laid out by GB/T 9704-2012, written top to bottom.

    ``fallback`` picks the font of each part's chain (see :data:`FACES`): 0 writes the
    standard's fonts, 1 the fonts Windows and Office ship, 2 the last resort.
    """

    def __init__(self, *, fallback: int = 0) -> None:
        self.fallback = fallback
        self.document: Document = docx.Document()
        self._attachments = 0
        # One formatted paragraph per look, copied for the next ones (see _paragraph).
        self._models: dict[tuple[Part, str, bool], Any] = {}
        self._sect_pr: Any = None
        self._page_setup()
        self._default_style()
        self._page_numbers()

    # -- the elements of the standard, top to bottom ----------------------------------------

    def title(self, *lines: str) -> Paragraph:
        """标题: centred, 2号小标宋, followed by the blank line above the 主送机关. Give a
        long title as several ``lines`` broken where the words allow (词意完整, 7.3.3)."""
        paragraph = self._paragraph("", Part.TITLE, align="center", indent=False)
        for number, line in enumerate(lines):
            run = self._run(paragraph, line, Part.TITLE)
            if number < len(lines) - 1:
                run.add_break()
        self.blank_line()
        return paragraph

    def addressee(self, text: str) -> Paragraph:
        """主送机关: flush left, ending in a full-width colon (added when missing)."""
        text = clean_text(text).rstrip()
        if not text.endswith(("：", ":")):
            text += "："
        return self._paragraph(text, Part.BODY, indent=False)

    def paragraph(self, text: str) -> Paragraph:
        """A body paragraph: 3号仿宋, two characters in, lines wrapping flush left, justified."""
        return self._paragraph(text, Part.BODY, align="justify")

    def heading(self, text: str, level: int = 1) -> Paragraph:
        """一级 ("一、", 黑体) or 二级 ("（一）", 楷体) heading, indented like the body."""
        if level not in (1, 2):
            raise ValueError("GB/T 9704 sets 黑体 and 楷体 for levels 1 and 2; use paragraph()")
        part = Part.HEADING_1 if level == 1 else Part.HEADING_2
        paragraph = self._paragraph(text, part)
        paragraph.paragraph_format.keep_with_next = True
        return paragraph

    def line(self, text: str, *, align: str = "left") -> Paragraph:
        """A body-sized line without the first-line indent (a form's fields, a signature
        line), flush left, or right or centred by ``align``."""
        return self._paragraph(text, Part.BODY, align=align, indent=False)

    def blank_line(self) -> Paragraph:
        """An empty body line (the standard's 空一行)."""
        return self._paragraph("", Part.BODY, indent=False)

    def attachment_notes(self, titles: Sequence[str]) -> list[Paragraph]:
        """附件说明 after a blank line: "附件：1.…" and the next ones aligned under "1."; one
        attachment alone is written without a number. ``titles`` must match the titles given
        to :meth:`attachment`, in order."""
        if not titles:
            return []
        # The block, and the signature after it, never start a page alone.
        self.blank_line().paragraph_format.keep_with_next = True
        em = Pt(FACES[Part.BODY].size)
        label = "附件："
        if len(titles) == 1:
            paragraph = self._paragraph(label + clean_text(titles[0]), Part.BODY, indent=False)
            self._hang(paragraph, left=(2 + text_width(label)) * em, hanging=text_width(label) * em)
            paragraph.paragraph_format.keep_with_next = True
            return [paragraph]
        paragraphs = []
        for number, title in enumerate(titles, start=1):
            mark = f"{number}."
            prefix = (label if number == 1 else "") + mark
            paragraph = self._paragraph(prefix + clean_text(title), Part.BODY, indent=False)
            # The name's lines start at 2 characters + "附件：" + "1.".
            left = (2 + text_width(label) + text_width(mark)) * em
            self._hang(paragraph, left=left, hanging=text_width(prefix) * em)
            paragraph.paragraph_format.keep_with_next = True
            paragraphs.append(paragraph)
        return paragraphs

    def signature(self, issuer: str, day: date) -> tuple[Paragraph, Paragraph]:
        """发文机关署名 and 成文日期 for a document to be sealed (7.3.5.1): the date four
        characters from the right, the name centred above it, after a blank line."""
        self.blank_line().paragraph_format.keep_with_next = True
        issuer, when = clean_text(issuer).strip(), chinese_date(day)
        em = Pt(FACES[Part.BODY].size)
        name_right = 4 + max(text_width(when) - text_width(issuer), 0) / 2
        name = self._paragraph(issuer, Part.BODY, align="right", indent=False)
        name.paragraph_format.right_indent = int(name_right * em)
        name.paragraph_format.keep_with_next = True
        dated = self._paragraph(when, Part.BODY, align="right", indent=False)
        dated.paragraph_format.right_indent = int(4 * em)
        return name, dated

    def attachment(self, title: str, *, numbered: bool = True) -> Paragraph:
        """Start an attachment on a new page: "附件N" (3号黑体, top left), then its title
        centred on the next line, and a blank line. Returns the title's paragraph."""
        self._attachments += 1
        mark = f"附件{self._attachments}" if numbered else "附件"
        first = self._paragraph(mark, Part.ATTACHMENT_MARK, indent=False)
        first.paragraph_format.page_break_before = True
        heading = self._paragraph(title, Part.TITLE, align="center", indent=False)
        heading.paragraph_format.keep_with_next = True
        self.blank_line().paragraph_format.keep_with_next = True
        return heading

    def table(self, columns: Sequence[TableColumn], rows: Iterable[Sequence[object]]) -> Table:
        """A bordered table with a header row repeated on every page; ``None`` cells are
        empty, numbers written as they are, every other value as text."""
        body = [list(values) for values in rows]
        table: Table = self.document.add_table(rows=1 + len(body), cols=len(columns))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        for position, column in enumerate(columns):  # the grid, which LibreOffice reads
            table.columns[position].width = Mm(column.width_mm)
        header, *lines = table.rows
        for cell, column in zip(header.cells, columns, strict=True):
            self._cell(cell, column.title, Part.TABLE_HEADER, "center", column.width_mm)
        self._row_properties(header, repeat=True)
        for row, values in zip(lines, body, strict=True):
            for cell, column, value in zip(row.cells, columns, values, strict=True):
                text = "" if value is None else str(value)
                self._cell(cell, text, Part.TABLE, column.align, column.width_mm)
            self._row_properties(row, repeat=False)
        return table

    def save(self, target: str | os.PathLike[str] | IO[bytes]) -> None:
        """Write the document: to a path through a temporary file renamed over it (no half
        file is ever left), or into a binary file object."""
        if isinstance(target, str | os.PathLike):
            write_atomically(Path(target), self.document.save)
        else:
            self.document.save(target)

    # -- building blocks -----------------------------------------------------------------------

    def _paragraph(
        self, text: str, part: Part, *, align: str = "left", indent: bool = True
    ) -> Paragraph:
        if not text:
            paragraph = self.document.add_paragraph()
            self._format(paragraph, part, align, indent)
            return paragraph
        # Formatting a paragraph and its run property by property costs about a millisecond
        # in python-docx; a long document (a department's 报送 sheet: thousands of
        # paragraphs) copies a formatted one of the same look instead and sets its text.
        # The copy goes in before the body's closing section properties, found once: looking
        # them up among the body's children each time made a long document quadratic.
        text = clean_text(text)
        key = (part, align, indent)
        model = self._models.get(key)
        if model is None:
            paragraph = self.document.add_paragraph()
            self._format(paragraph, part, align, indent)
            self._run(paragraph, "", part).text = " "  # the run's w:t, kept in the model
            model = self._models[key] = copy.deepcopy(paragraph.paragraph_format.element)
        else:
            element = copy.deepcopy(model)
            self._section_properties().addprevious(element)
            paragraph = Paragraph(element, self.document)
        if "\n" in text or "\t" in text:
            paragraph.runs[0].text = text  # python-docx writes w:br and w:tab
        else:
            # One w:t with xml:space="preserve" (python-docx's own for a space): set its text.
            paragraph.runs[0].element.find(qn("w:t")).text = text
        return paragraph

    def _section_properties(self) -> Any:
        if self._sect_pr is None:
            self._sect_pr = self.document.element.body.get_or_add_sectPr()
        return self._sect_pr

    def _format(self, paragraph: Paragraph, part: Part, align: str, indent: bool) -> None:
        face = FACES[part]
        fmt = paragraph.paragraph_format
        fmt.alignment = ALIGNMENTS[align]
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.first_line_indent = Pt(2 * face.size) if indent else Pt(0)
        # Exact line heights: the body's pitch, 1.3 × the size for the 2号 title, 1.5 × in
        # tables (a little air above and below the figures).
        if part in (Part.TABLE, Part.TABLE_HEADER):
            fmt.line_spacing = Pt(face.size * 1.5)
        else:
            fmt.line_spacing = LINE_PITCH if face.size == SIZE_3 else Pt(round(face.size * 1.3))
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.widow_control = True

    def _run(self, paragraph: Paragraph, text: str, part: Part) -> Run:
        run = paragraph.add_run(clean_text(text))
        self._font(run, part)
        return run

    def _font(self, run: Run, part: Part) -> None:
        face = FACES[part]
        run.font.size = Pt(face.size)
        run.font.bold = face.bold
        set_east_asian_font(run, face.name(self.fallback))

    def _hang(self, paragraph: Paragraph, *, left: float, hanging: float) -> None:
        fmt = paragraph.paragraph_format
        fmt.left_indent = int(left)
        fmt.first_line_indent = -int(hanging)

    def _cell(self, cell: Any, text: str, part: Part, align: str, width_mm: float) -> None:
        cell.width = Mm(width_mm)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        paragraph = cell.paragraphs[0]
        self._format(paragraph, part, align, indent=False)
        if text:
            self._run(paragraph, text, part)

    def _row_properties(self, row: Any, *, repeat: bool) -> None:
        """The row is never split across pages; the header row repeats on each page."""
        # python-docx names no row element publicly: a cell paragraph's parents are the
        # cell (w:tc) and the row (w:tr).
        tr = row.cells[0].paragraphs[0].paragraph_format.element.getparent().getparent()
        properties = tr.get_or_add_trPr()
        properties.append(OxmlElement("w:cantSplit"))
        if repeat:
            properties.append(OxmlElement("w:tblHeader"))

    def _page_setup(self) -> None:
        section = self.document.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        section.top_margin, section.bottom_margin = Mm(MARGINS_MM.top), Mm(MARGINS_MM.bottom)
        section.left_margin, section.right_margin = Mm(MARGINS_MM.left), Mm(MARGINS_MM.right)
        section.header_distance, section.footer_distance = Mm(15), FOOTER_DISTANCE
        section.gutter = Mm(0)
        # No document grid: every paragraph has an exact line height instead (22 body lines
        # a page), which Word and LibreOffice both honour; a grid would also snap the table
        # rows to 29 pt lines. Without a character grid a line holds 27 characters of 3号
        # (16 pt × 28 is 6 pt wider than 156 mm).
        sect_pr = self.document.element.body.get_or_add_sectPr()
        for old in sect_pr.findall(qn("w:docGrid")):
            sect_pr.remove(old)

    def _default_style(self) -> None:
        """Normal is the body's font, so text the coordinator types in Word looks like it."""
        style: Any = self.document.styles["Normal"]
        face = FACES[Part.BODY]
        style.font.size = Pt(face.size)
        name = face.name(self.fallback)
        style.font.name = name
        properties = style.element.get_or_add_rPr()
        properties.get_or_add_rFonts().set(qn("w:eastAsia"), name)
        # Chinese text: line breaks by Chinese rules (never before "、" or "。").
        language = OxmlElement("w:lang")
        language.set(qn("w:val"), "zh-CN")
        language.set(qn("w:eastAsia"), "zh-CN")
        properties.append(language)
        style.paragraph_format.line_spacing = LINE_PITCH
        style.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY

    def _page_numbers(self) -> None:
        """ "— N —" in the footer: odd pages right, even pages left, one character in."""
        self.document.settings.odd_and_even_pages_header_footer = True
        section = self.document.sections[0]
        em = Pt(FACES[Part.PAGE_NUMBER].size)
        for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
            footer.is_linked_to_previous = False
            paragraph = footer.paragraphs[0]
            fmt = paragraph.paragraph_format
            fmt.alignment = ALIGNMENTS[align]
            fmt.space_before = fmt.space_after = Pt(0)
            if align == "right":
                fmt.right_indent = em
            else:
                fmt.left_indent = em
            self._run(paragraph, EM_DASH + " ", Part.PAGE_NUMBER)
            self._page_field(paragraph)
            self._run(paragraph, " " + EM_DASH, Part.PAGE_NUMBER)

    def _page_field(self, paragraph: Paragraph) -> None:
        """The PAGE field (our own, never user text), its cached value "1"."""
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), " PAGE ")
        paragraph.paragraph_format.element.append(field)
        # A run made by python-docx, then moved inside the field so it carries the font.
        run = self._run(paragraph, "1", Part.PAGE_NUMBER)
        field.append(run.element)


def set_east_asian_font(run: Run, name: str) -> None:
    """Set ``name`` as the run's font for Latin and Chinese text: python-docx's ``font.name``
    writes ``w:ascii`` and ``w:hAnsi``; ``w:eastAsia`` is the one Word draws Chinese with."""
    run.font.name = name
    fonts = run.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)


def east_asian_font(run: Run) -> str | None:
    """The run's ``w:eastAsia`` font, as Word reads it (None when unset)."""
    properties = run.element.rPr
    fonts = properties.rFonts if properties is not None else None
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None
