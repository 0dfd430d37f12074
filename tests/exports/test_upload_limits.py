"""A small upload of a header and hundreds of thousands of blank rows is refused at once.

Such a file compresses well (inside every zip limit) and once kept a worker busy for minutes.
The refusal is judged by how many rows were read, not by a tight clock.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from tests.exports.test_template import download, problems_of, saved_state, upload
from tracker.exports import template

BLANK_ROWS = 300_000


@pytest.fixture
def liaison(quarter, people, login):
    login(people["mps"])
    return people["mps"]


def _sheet_part(archive: zipfile.ZipFile) -> str:
    """The part of the 填报 sheet (the template writes it first)."""
    return "xl/worksheets/sheet1.xml"


def _with_blank_rows(data: bytes, *, dimension: str | None) -> bytes:
    """The template with ``BLANK_ROWS`` empty rows after its last one; ``dimension`` replaces
    the sheet's declared range (None: the element is removed, as a hand-made file may)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == _sheet_part(source):
                xml = content.decode()
                last = max(int(n) for n in re.findall(r'<row r="(\d+)"', xml))
                blank = "".join(
                    f'<row r="{n}" spans="1:15"/>' for n in range(last + 1, last + BLANK_ROWS)
                )
                xml = xml.replace("</sheetData>", blank + "</sheetData>")
                ref = "" if dimension is None else f'<dimension ref="{dimension}"/>'
                xml = re.sub(r"<dimension ref=\"[^\"]*\"/>", ref, xml)
                content = xml.encode()
            target.writestr(entry, content)
    return out.getvalue()


class _Counting:
    """Counts the rows the reader is handed (wraps the sheet's row iterator)."""

    def __init__(self, monkeypatch):
        self.rows = 0
        read_rows = template._read_rows

        def counting(workbook, limits):
            sheet = workbook[template.SHEET_TITLE]
            iter_rows = sheet.iter_rows

            def rows(*args, **kwargs):
                for row in iter_rows(*args, **kwargs):
                    self.rows += 1
                    yield row

            sheet.iter_rows = rows
            return read_rows(workbook, limits)

        monkeypatch.setattr(template, "_read_rows", counting)


def test_a_declared_dimension_beyond_the_limit_is_refused_before_reading(
    client, liaison, monkeypatch
):
    data = _with_blank_rows(download(client), dimension=f"A1:O{BLANK_ROWS + 20}")
    assert len(data) < template.MAX_UPLOAD_BYTES  # inside the size and zip-bomb limits
    counted = _Counting(monkeypatch)
    before = saved_state()
    response = upload(client, data)
    assert response.status_code == 422
    [(_, _, message)] = problems_of(response)
    assert "超过上限 5000 行" in message and "空行" in message
    assert counted.rows == 0  # openpyxl never walked the sheet
    assert saved_state() == before


def test_a_sheet_without_a_dimension_stops_at_the_row_limit(client, liaison, monkeypatch):
    data = _with_blank_rows(download(client), dimension=None)
    counted = _Counting(monkeypatch)
    before = saved_state()
    response = upload(client, data)
    assert response.status_code == 422
    [(_, _, message)] = problems_of(response)
    assert "超过上限 5000 行" in message
    assert counted.rows <= 5000 + 2  # the header, the limit, the one row that crossed it
    assert saved_state() == before


def test_a_dimension_smaller_than_the_sheet_bounds_the_reading(client, liaison, monkeypatch):
    """openpyxl reads no row below a declared dimension: the blank rows are never walked."""
    data = _with_blank_rows(download(client), dimension="A1:O5")
    counted = _Counting(monkeypatch)
    assert upload(client, data).status_code == 302
    assert counted.rows <= 5


def test_reading_stops_when_its_time_is_up(client, liaison, app, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_IMPORT_MAX_ROWS", 10**6)
    monkeypatch.setitem(app.config, "TRACKER_IMPORT_SECONDS", 0.001)
    data = _with_blank_rows(download(client), dimension=None)
    response = upload(client, data)
    assert response.status_code == 422
    [(_, _, message)] = problems_of(response)
    assert "读取超过 0.001 秒" in message


def test_the_configured_limit_is_the_one_applied(client, liaison, app, monkeypatch):
    data = download(client)
    assert upload(client, data).status_code == 302  # the template itself is well inside
    monkeypatch.setitem(app.config, "TRACKER_IMPORT_MAX_ROWS", 2)
    response = upload(client, data)
    assert response.status_code == 422
    assert "超过上限 2 行" in problems_of(response)[0][2]
