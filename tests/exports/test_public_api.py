"""No module of the application reaches into a spreadsheet or Word library's private names."""

from __future__ import annotations

import re
from pathlib import Path

import tracker

LIBRARIES = ("openpyxl", "et_xmlfile", "xlsxwriter", "docx")
ROOT = Path(tracker.__file__).parent
# A private name imported: "from openpyxl.x import _y", "from openpyxl._x import y",
# "import openpyxl._x" (any library above, any module below it).
_NAMES = "|".join(LIBRARIES)
PRIVATE_IMPORT = re.compile(
    rf"^\s*(?:from\s+(?P<from>(?:{_NAMES})(?:\.\w+)*)\s+import\s+(?P<names>[^#\n]+)"
    rf"|import\s+(?P<module>(?:{_NAMES})(?:\.\w+)*))",
    re.MULTILINE,
)
# Attribute uses the old writer relied on, and any "._name" on a library's objects.
PRIVATE_ATTRIBUTES = re.compile(
    r"\._write_rows\b|\._add_sheet\b|\._cell_styles\b|\._writer\b|\._file\b|\._style\b"
    r"|\._get_xf_index\b|\._write_single_row\b|\._write_string\b|\._write_number\b"
    r"|getattr\(\s*(?:xf|ws|wb|workbook|worksheet|cell|chart|openpyxl|xlsxwriter)\b[^,]*,"
    r"\s*[\"']_\w+"
    r"|\b(?:openpyxl|et_xmlfile|xlsxwriter|workbook|worksheet|ws|wb|xf|cell|chart)\._[a-z]\w*"
    # python-docx's proxies keep their XML element in private names.
    r"|\.(?:_element|_p|_r|_tbl|_tr|_tc|_sectPr|_body|_parent)\b"
)


def private_uses(text: str) -> list[str]:
    """Every private import or attribute use of the spreadsheet libraries in ``text``."""
    found = []
    for match in PRIVATE_IMPORT.finditer(text):
        module = match.group("from") or match.group("module")
        if any(part.startswith("_") for part in module.split(".")):
            found.append(match.group(0).strip())
        names = match.group("names") or ""
        for name in re.split(r"[\s,()]+", names):
            if name.startswith("_"):
                found.append(match.group(0).strip())
    found += [match.group(0) for match in PRIVATE_ATTRIBUTES.finditer(text)]
    return found


def test_no_module_uses_a_private_name_of_a_spreadsheet_or_word_library():
    offenders = {
        str(path.relative_to(ROOT.parent)): uses
        for path in sorted(ROOT.rglob("*.py"))
        if (uses := private_uses(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_check_finds_what_the_old_writer_did():
    """The patterns above match the private uses the previous writer had, and no public use."""
    old = """
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.cell.cell import Cell, _helper
import openpyxl._private
book.workbook._add_sheet(self.ws)
self.workbook._cell_styles.add(array)
xf = self._writer.xf.send(True)
write = getattr(xf, "_file", None)
return cell._style
table._tbl.append(header)
rpr = run._r.get_or_add_rPr()
sect = section._sectPr
"""
    lines = old.strip().splitlines()
    assert [line for line in lines if not private_uses(line)] == []
    public = """
import openpyxl
from openpyxl.utils import escape
from xlsxwriter.worksheet import Worksheet
ws.write_string(0, 0, text, cell_format)
self._slots = []
fonts = run.element.get_or_add_rPr().get_or_add_rFonts()
"""
    assert private_uses(public) == []
