"""Fixtures for the workbooks: the reporting quarter, users, and reading workbooks back."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput


def load(data: bytes, **options):
    """Open a produced workbook with openpyxl, as a user's Excel would read it."""
    return openpyxl.load_workbook(io.BytesIO(data), **options)


def formulas_in(data: bytes) -> list[str]:
    """Every ``<f>`` (formula) element in any worksheet of the file: there must be none."""
    found = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name).decode("utf-8")
                if "<f>" in xml or "<f " in xml:
                    found.append(name)
    return found


def fit_to(ws) -> tuple[int, int]:
    """The pages a sheet is fitted to, (wide, high); an absent attribute is the schema's 1."""
    setup = ws.page_setup
    return tuple(
        1 if value is None else int(value) for value in (setup.fitToWidth, setup.fitToHeight)
    )


# A sheet under a masthead (表号, title, heading, who filled it in) has its header on row 5;
# the template, a title row then the header.
MASTHEAD_HEADER, MASTHEAD_FIRST = 5, 6


def first_data_row(ws) -> int:
    """The first row below the header, whether the sheet opens with a masthead or a title."""
    return MASTHEAD_FIRST if str(ws["A1"].value or "").startswith("表号") else 3


def data_rows(ws, first: int | None = None) -> list[tuple]:
    """The values of a table sheet below its header, a merged block's value on each of its
    rows (as a reader sees the block on paper)."""
    first = first_data_row(ws) if first is None else first
    filled = {}
    for merged in ws.merged_cells.ranges:
        value = ws.cell(merged.min_row, merged.min_col).value
        for row in range(max(merged.min_row, first), merged.max_row + 1):
            for column in range(merged.min_col, merged.max_col + 1):
                filled[(row, column)] = value
    rows = []
    for number, row in enumerate(ws.iter_rows(min_row=first, values_only=True), start=first):
        values = tuple(
            filled.get((number, column), value) for column, value in enumerate(row, start=1)
        )
        if any(values):
            rows.append(values)
    return rows


@pytest.fixture
def people(make_user):
    """A liaison of 公安部 (mps) and of 民政部 (mca), a coordinator, a leader, an admin."""
    return {
        "mps": make_user("liaison", "mps"),
        "mca": make_user("liaison", "mca"),
        "mps_viewer": make_user("viewer", "mps"),
        "coordinator": make_user("coordinator", "mca"),
        "leader": make_user("viewer"),
        "admin": make_user("admin"),
    }


@pytest.fixture
def filed(quarter, people, make_user):
    """Reports in every state on 2024Q3; the clock ends on Sat 2024-10-12 (a working day).

    * item 5 民政部 (sole lead): submitted 10-08 on time, accepted as completed;
    * item 11 公安部 (lead, due 10-10): submitted 10-11, one working day late, every narrative
      starting with a formula character; its three supporting inputs waived;
    * item 3 全国妇联 (support, due 10-08): submitted 09-26, then returned;
    * item 1 民政部 (joint): a draft, never submitted, so overdue like the untouched rest.
    """
    mca, mps, coordinator = people["mca"], people["mps"], people["coordinator"]
    acwf = make_user("liaison", "acwf")

    quarter.at("2024-09-26 15:00")
    _submit(quarter.obligation(3, "acwf"), acwf, "妇联培训 2 期。")
    services.return_report(
        quarter.obligation(3, "acwf").report, actor=coordinator, reason="请补充数据。"
    )
    quarter.at("2024-10-08 09:30")
    report = _submit(quarter.obligation(5, "mca"), mca, "村规民约全覆盖。")
    services.accept_report(report, actor=coordinator, confirmed_status=ProgressStatus.COMPLETED)
    for code in ("moj", "moa", "acwf"):
        services.waive_obligation(quarter.obligation(11, code), actor=coordinator, reason="无")
    quarter.at("2024-10-11 16:45")
    _submit(quarter.obligation(11, "mps"), mps, **DANGEROUS)
    services.save_draft(
        quarter.obligation(1, "mca"), ReportInput(progress="草稿内容"), actor=mca,
        expected_version=None,
    )  # fmt: skip
    db.session.commit()
    quarter.at("2024-10-12 10:00")
    return quarter


# Narratives a spreadsheet could take for formulas or commands.
DANGEROUS = {
    "progress": '=HYPERLINK("http://evil.example","点击")',
    "problems": "+1 警力不足",
    "practices": "-整改措施",
    "suggestions": "@SUM(A1)",
    "next_steps": "\t下季度继续\n=1+1",
}


def _submit(obligation, liaison, progress=None, **texts):
    if progress is not None:
        texts["progress"] = progress
    report = services.save_draft(
        obligation,
        ReportInput(status=ProgressStatus.IN_PROGRESS, **texts),
        actor=liaison,
        expected_version=obligation.report.version if obligation.report else None,
    )
    return services.submit_report(report, actor=liaison)
