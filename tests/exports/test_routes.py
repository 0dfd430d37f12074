"""Downloading the quarterly workbook: who gets what, and the links that lead to it."""

from __future__ import annotations

from tests.exports.conftest import data_rows, load
from tracker.catalogue.queries import document_by_number


def test_coordinator_downloads_every_department(client, filed, people, login):
    login(people["coordinator"])
    response = client.get("/exports/quarterly.xlsx?period=2024Q3")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and "2024Q3" in disposition
    assert response.headers["Cache-Control"] == "no-store"  # never kept by a browser or proxy
    wb = load(response.data)
    assert len(data_rows(wb["报告明细"])) == 74
    overview = [str(row[0]) for row in wb["总体情况"].iter_rows(values_only=True)]
    assert any("范围：全部部门" in line for line in overview)
    # The masthead names who exported it; the compilation's approver is signed by hand.
    fields = wb["总体情况"]["A4"].value
    assert f"填报人：{people['coordinator'].display_name}" in fields and "审核人：\u3000" in fields


def test_liaison_and_department_viewer_get_their_department_only(client, filed, people, login):
    for who in ("mps", "mps_viewer"):
        login(people[who])
        wb = load(client.get("/exports/quarterly.xlsx?period=2024Q3").data)
        assert {row[2] for row in data_rows(wb["报告明细"])} == {"公安部"}, who
        assert [row[1] for row in data_rows(wb["部门考核"])] == ["公安部"], who
        assert "公安部" in wb["报告明细"]["A3"].value
        assert wb["报告明细"]["A4"].value.startswith("填报单位：公安部")


def test_leader_and_admin_see_everything(client, filed, people, login):
    for who in ("leader", "admin"):
        login(people[who])
        wb = load(client.get("/exports/quarterly.xlsx?period=2024Q3").data)
        assert len(data_rows(wb["报告明细"])) == 74, who


def test_document_filter_and_unknown_arguments(client, filed, people, login):
    login(people["coordinator"])
    document = document_by_number("民发〔2019〕86号")
    response = client.get(f"/exports/quarterly.xlsx?period=2024Q3&document={document.id}")
    assert response.status_code == 200
    assert "86" in response.headers["Content-Disposition"]
    assert client.get("/exports/quarterly.xlsx?period=2024Q3&document=999999").status_code == 404
    assert client.get("/exports/quarterly.xlsx?period=2024Q3&document=x").status_code == 404
    assert client.get("/exports/quarterly.xlsx?period=1999Q1").status_code == 404
    assert client.get("/exports/quarterly.xlsx?period=2024q3").status_code == 404


def test_pages_link_to_the_workbooks(client, filed, people, login):
    login(people["mps"])
    page = client.get("/reports?period=2024Q3").get_data(as_text=True)
    assert "/exports/quarterly.xlsx?period=2024Q3" in page
    assert "/exports/template/upload?period=2024Q3" in page
    upload_page = client.get("/exports/template/upload?period=2024Q3").get_data(as_text=True)
    assert "/exports/template.xlsx?period=2024Q3" in upload_page
    login(people["coordinator"])
    page = client.get("/reports?period=2024Q3").get_data(as_text=True)
    assert "/exports/quarterly.xlsx?period=2024Q3" in page
    assert "/exports/template" not in page
