"""The province's county template: downloaded per quarter (one row per county, one column
per indicator, whole numbers ≥ 0 validated, 是 / 否 for the indicator that counts counties),
filled and uploaded back; a hostile or wrong
upload is refused as a whole, every problem named by its cell, nothing saved."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.counties.conftest import county, workbook_bytes
from tracker.counties import queries
from tracker.counties.sheets import FIRST_ROW, HEADER_ROW, KEY_ROW, SHEET_TITLE


def _download(client, period):
    response = client.get(f"/counties/ledger/template?period={period.key}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    return openpyxl.load_workbook(io.BytesIO(response.data))


def _upload(client, period, book, name="模板.xlsx"):
    return client.post(
        f"/counties/ledger/upload?period={period.key}",
        data={"file": (io.BytesIO(workbook_bytes(book)), name)},
        content_type="multipart/form-data",
    )


def _row_of(sheet, code):
    for row in range(FIRST_ROW, sheet.max_row + 1):
        if sheet.cell(row, 1).value == code:
            return row
    raise AssertionError(code)


def test_template_round_trip(ledger, client, login):
    people, indicators, period = ledger["people"], ledger["indicators"], ledger["period"]
    login(people["coordinator"])
    book = _download(client, period)
    sheet = book[SHEET_TITLE]
    assert sheet["B1"].value == period.key
    assert [sheet.cell(KEY_ROW, 4 + n).value for n in range(5)] == [i.key for i in indicators]
    codes = [sheet.cell(r, 1).value for r in range(FIRST_ROW, sheet.max_row + 1)]
    assert codes == ["130102", "130104", "130105", "130202", "130203"]
    # 已完成摸底排查的县 is a 是 / 否 list, the four counts of people whole numbers ≥ 0.
    yes_no, *counts = sheet.data_validations.dataValidation
    assert sheet.cell(HEADER_ROW, 4).value.startswith("本县是否已完成摸底排查（填“是”或“否”）")
    assert yes_no.type == "list" and yes_no.formula1 == '"是,否"'
    assert str(yes_no.sqref) == f"D{FIRST_ROW}:D{FIRST_ROW + 4}"
    for validation, column in zip(counts, "EFGH", strict=True):
        assert validation.type == "whole" and validation.operator == "greaterThanOrEqual"
        assert validation.formula1 == "0"
        assert str(validation.sqref) == f"{column}{FIRST_ROW}:{column}{FIRST_ROW + 4}"
    sheet.cell(_row_of(sheet, "130104"), 4).value = "是"  # stored as the count 1
    sheet.cell(_row_of(sheet, "130104"), 5).value = 25
    sheet.cell(_row_of(sheet, "130203"), 5).value = "1,200"  # typed as text with a comma
    response = _upload(client, period, book)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert queries.values_of_county(county("130104").id, period) == {
        indicators[0].key: 1, indicators[1].key: 25}  # fmt: skip
    assert queries.values_of_county(county("130203").id, period) == {indicators[1].key: 1200}
    # Read back on the ledger page.
    page = client.get(f"/counties/ledger?period={period.key}").get_data(as_text=True)
    row = page.split('data-county="130203"', 1)[1].split("</tr>", 1)[0]
    assert f'data-key="{indicators[1].key}">1200<' in row
    # Uploading the same file again changes nothing.
    again = _upload(client, period, book)
    assert again.status_code == 302
    assert "0 个县的 0 项" in client.get(f"/counties/ledger?period={period.key}").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("=1+1", "E{row} 单元格：“=1+1”是公式或以符号开头的文字"),
        ('=HYPERLINK("http://x","1")', "是公式或以符号开头的文字"),
        ("@SUM(1)", "是公式或以符号开头的文字"),
        (-3, "E{row} 单元格：“-3”是负数"),
        (2.5, "E{row} 单元格：“2.5”不是整数"),
        ("十", "E{row} 单元格：只能填写 0 或正整数"),
        ("11010519491231002X", "“E{row} 单元格”中含有疑似身份证号码（110*************2X）"),
        (13812345678, "“E{row} 单元格”中含有疑似手机号码"),
    ],
)
def test_hostile_or_wrong_cells_refuse_the_whole_upload(ledger, client, login, value, message):
    people, period = ledger["people"], ledger["period"]
    login(people["coordinator"])
    book = _download(client, period)
    sheet = book[SHEET_TITLE]
    good, bad = _row_of(sheet, "130102"), _row_of(sheet, "130105")
    sheet.cell(good, 4).value = "是"  # a valid cell: not saved either
    sheet.cell(bad, 5).value = value
    response = _upload(client, period, book)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message.format(row=bad) in page.replace("&#34;", '"')
    assert "未保存任何内容" in page
    assert queries.values_of_quarter(period) == {}


def test_a_real_formula_is_refused_not_evaluated(ledger, client, login):
    people, period = ledger["people"], ledger["period"]
    login(people["coordinator"])
    book = _download(client, period)
    sheet = book[SHEET_TITLE]
    row = _row_of(sheet, "130202")
    sheet.cell(row, 4).value = "=2*3"  # openpyxl writes this as a formula (<f>)
    assert sheet.cell(row, 4).data_type == "f"
    page = _upload(client, period, book).get_data(as_text=True)
    assert f"D{row} 单元格" in page and "公式" in page
    assert queries.values_of_quarter(period) == {}


def test_equals_text_is_text_and_refused(ledger, client, login):
    people, period = ledger["people"], ledger["period"]
    login(people["coordinator"])
    book = _download(client, period)
    sheet = book[SHEET_TITLE]
    row = _row_of(sheet, "130202")
    cell = sheet.cell(row, 6)
    cell.value, cell.data_type = "=cmd|' /C calc'!A0", "s"  # a string cell, not a formula
    page = _upload(client, period, book).get_data(as_text=True)
    assert f"F{row} 单元格" in page and "以符号开头的文字" in page
    assert queries.values_of_quarter(period) == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.__setitem__("B1", "2001Q1"), "B1 单元格应为报告期"),
        (lambda s: s.cell(FIRST_ROW, 1, "999999"), "A4 单元格：区划代码“999999”不是本系统中的县"),
        (lambda s: s.cell(KEY_ROW, 4, "nosuchkey"), "D3 单元格：指标代码“nosuchkey”"),
        (lambda s: s.cell(FIRST_ROW + 1, 1, "130102"), "区划代码 130102 与第4行重复"),
    ],
)
def test_another_file_is_refused_with_the_cell(ledger, client, login, change, message):
    people, period = ledger["people"], ledger["period"]
    login(people["coordinator"])
    book = _download(client, period)
    sheet = book[SHEET_TITLE]
    sheet.cell(FIRST_ROW + 2, 4).value = 5
    change(sheet)
    response = _upload(client, period, book)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert queries.values_of_quarter(period) == {}


def test_not_an_xlsx_is_refused(ledger, client, login):
    login(ledger["people"]["coordinator"])
    period = ledger["period"]
    response = client.post(
        f"/counties/ledger/upload?period={period.key}",
        data={"file": (io.BytesIO(b"PK\x03\x04garbage"), "模板.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "文件已损坏" in response.get_data(as_text=True)
    csv = client.post(
        f"/counties/ledger/upload?period={period.key}",
        data={"file": (io.BytesIO(b"a,b"), "模板.csv")},
        content_type="multipart/form-data",
    )
    assert "只能上传 .xlsx 文件" in csv.get_data(as_text=True)


@pytest.mark.parametrize(
    ("value", "stored", "problem"),
    [("是", 1, None), ("否", 0, None), (1, 1, None), (0, 0, None),
     (2, None, "“2”只能填写“是”或“否”"), ("已完成", None, "“已完成”只能填写“是”或“否”")],
)  # fmt: skip
def test_the_county_count_is_answered_yes_or_no_in_the_template(
    ledger, client, login, value, stored, problem
):
    people, indicators, period = ledger["people"], ledger["indicators"], ledger["period"]
    login(people["coordinator"])
    book = _download(client, period)
    sheet = book[SHEET_TITLE]
    row = _row_of(sheet, "130102")
    sheet.cell(row, 4).value = value
    response = _upload(client, period, book)
    if problem is None:
        assert response.status_code == 302
        assert queries.values_of_county(county("130102").id, period) == {indicators[0].key: stored}
    else:
        assert response.status_code == 422
        assert f"D{row} 单元格：{problem}" in response.get_data(as_text=True).replace("&#34;", '"')
        assert queries.values_of_quarter(period) == {}
