"""Benchmark the quarterly Excel export against a bare XlsxWriter loop writing the same cells.

Two datasets, each in its own SQLite database:

* the seed quarter: the 23 items of 民发〔2019〕86号 for 2024Q3 (74 obligations), nearly all
  reported with a few hundred characters in each narrative field;
* the synthetic portfolio of the dashboard benchmark (``flask demo-data``; by default 200
  documents of 30 items over 20 quarters), exported for its last closed quarter (frozen);
* the 报送 sheet of the portfolio's largest department in that quarter.

For each, the export (:func:`tracker.exports.quarterly.write_quarterly`: database reads,
lights, styles, six sheets, chart) is timed and its peak memory measured with tracemalloc; then
every cell value of the produced workbook is read back (outside any measurement) and written
again by a bare XlsxWriter loop in constant-memory mode, with the same workbook options, one
``write_row`` per row and one format on every cell (a date format, so that dates show as
dates; no other styles, no queries, no print settings): the floor, measured in the same run.
Targets: export within 1.3× of the floor, and a peak memory that does not grow with the row
count.

The quarterly 通报 draft (:func:`tracker.exports.notice.write_notice`, python-docx) is timed
on the same two quarters, every department (so the largest department's figures are in it):
its floor is a bare python-docx loop writing the same paragraphs and table cells, read back
from the draft, with no fonts, indents or page set-up (paragraphs appended in linear time, as
the export does). The largest department's 报送 sheet is timed the same way, as a workbook and
as a Word document. Target: under 2 s each, memory flat.

    .venv/bin/python bench/excel.py                        # build in a temporary folder
    .venv/bin/python bench/excel.py --db instance/bench.sqlite3   # reuse the dashboard bench db
    .venv/bin/python bench/excel.py --documents 20 --quarters 4 --runs 1   # quick look
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import openpyxl
import sqlalchemy as sa
import xlsxwriter
from docx.oxml import OxmlElement
from docx.text.paragraph import Paragraph

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker import clock, create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402

PASSWORD = "Bench-pass-0001"  # noqa: S105 - a throw-away account in a throw-away database

SEED_PERIOD = "2024Q3"
FLOOR_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
TEXT = (
    "本季度组织开展农村留守妇女关爱服务专项行动，覆盖 12 个省份 86 个县，举办技能培训 35 期、"
    "培训 4200 人次；建立联络员队伍，完善信息台账和定期走访制度。"
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--quarters", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each write")
    parser.add_argument("--db", type=Path, help="portfolio SQLite file to build or reuse")
    return parser.parse_args()


def make_app(path: Path, folder: str, **config):
    return create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "TRACKER_UPLOAD_DIR": folder,
            # The seed quarter is filed straight to the coordinators: sign-off is not timed here.
            "TRACKER_SIGNOFF_REQUIRED": False,
            **config,
        }
    )


def migrate_and_seed(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["seed"])
    if result.exit_code != 0:
        raise SystemExit(f"flask seed failed:\n{result.output}")


def build_seed_quarter(app) -> None:
    """2024Q3 with reports in every state, filed through the services as liaisons would."""
    from tracker.auth.services import create_user
    from tracker.catalogue.models import Department, Role
    from tracker.periods import Period
    from tracker.reports import services
    from tracker.reports.models import Obligation, ProgressStatus
    from tracker.reports.services import ReportInput

    migrate_and_seed(app)
    beijing = ZoneInfo("Asia/Shanghai")
    with app.app_context(), clock.frozen(datetime(2024, 9, 26, 10, tzinfo=beijing)):
        services.open_period(Period.parse(SEED_PERIOD))
        coordinator = create_user("bench-coordinator", role="coordinator", password=PASSWORD)
        liaisons = {
            d.id: create_user(f"bench-{d.code}", role="liaison", password=PASSWORD, department=d)
            for d in db.session.scalars(sa.select(Department))
        }
        obligations = list(
            db.session.scalars(sa.select(Obligation).order_by(Obligation.role.desc()))
        )  # supporting inputs first: a lead consolidates them
        text = ReportInput(
            status=ProgressStatus.IN_PROGRESS, progress=TEXT * 2, problems=TEXT,
            practices=TEXT, suggestions=TEXT, next_steps=TEXT,
        )  # fmt: skip
        for index, obligation in enumerate(obligations):
            if index % 9 == 4 and obligation.role != Role.SUPPORT:
                continue  # not filed: overdue
            actor = liaisons[obligation.department_id]
            report = services.save_draft(obligation, text, actor=actor, expected_version=None)
            services.submit_report(report, actor=actor)
            if index % 3 == 0:
                services.accept_report(
                    report, actor=coordinator, confirmed_status=ProgressStatus.ONGOING
                )
            elif index % 7 == 1 and obligation.role != Role.SUPPORT:
                services.return_report(report, actor=coordinator, reason="请补充数据。")
        db.session.commit()


def build_portfolio(app, args) -> None:
    from tracker.catalogue.models import PolicyDocument

    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        synthetic = db.session.scalar(
            sa.select(sa.func.count()).where(PolicyDocument.synthetic.is_(True))
        )
    if synthetic:
        print(f"reusing the portfolio database: {synthetic} synthetic documents")
        return
    migrate_and_seed(app)
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(
        args=["demo-data", "--documents", str(args.documents), "--quarters", str(args.quarters),
              "--items", str(args.items)]
    )  # fmt: skip
    if result.exit_code != 0:
        raise SystemExit(f"flask demo-data failed:\n{result.output}")
    print(result.output.strip().splitlines()[-1])
    print(f"portfolio built in {time.perf_counter() - started:.0f} s")


@dataclass
class Figures:
    label: str
    obligations: int
    cells: int
    size: int
    export_s: float
    floor_s: float
    export_cpu: float
    floor_cpu: float
    export_peak: int
    floor_peak: int


def measure(label: str, app, period_key: str, runs: int, folder: Path) -> Figures:
    from tracker.exports.quarterly import QuarterlyRequest, write_quarterly
    from tracker.periods import Period

    request = QuarterlyRequest(Period.parse(period_key))
    output = folder / f"{label}.xlsx"

    def export():
        with app.app_context():
            return write_quarterly(output, request).obligations

    return compare(label, export, output, runs, folder)


def largest_department(app, period_key: str) -> tuple[str, int]:
    """The code of the department with the most obligations in the period, and how many."""
    from tracker.catalogue.models import Department
    from tracker.reports.models import Obligation

    with app.app_context():
        count = sa.func.count(Obligation.id)
        code, obligations = db.session.execute(
            sa.select(Department.code, count)
            .join(Obligation, Obligation.department_id == Department.id)
            .where(Obligation.period == period_key)
            .group_by(Department.code)
            .order_by(count.desc(), Department.code)
            .limit(1)
        ).one()
    return code, obligations


def measure_department(label: str, app, period_key: str, runs: int, folder: Path) -> Figures:
    """A department's 报送 sheet (gathered and written) for its quarter."""
    from tracker.catalogue.queries import department_by_code
    from tracker.exports.department import department_paper, write_department_xlsx
    from tracker.periods import Period

    code, _ = largest_department(app, period_key)
    output = folder / f"{label}.xlsx"

    def export():
        with app.app_context():
            paper = department_paper(department_by_code(code), Period.parse(period_key))
            write_department_xlsx(output, paper)
            return len(paper.lines)

    return compare(label, export, output, runs, folder)


def compare(label: str, export, output: Path, runs: int, folder: Path) -> Figures:
    """Time ``export`` (which writes ``output`` and returns its obligations) beside the floor:
    the same cells written again by a bare XlsxWriter loop."""
    result = export()  # warm-up: the calendar, compiled statements, the snapshot
    sheets = read_back(output)  # outside any measurement: the floor's input
    floor_output = folder / f"{label}-floor.xlsx"

    def floor():
        workbook = xlsxwriter.Workbook(str(floor_output), FLOOR_OPTIONS)
        cell_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})  # the one format
        for title, rows in sheets:
            ws = workbook.add_worksheet(title)
            for index, row in enumerate(rows):
                ws.write_row(index, 0, row, cell_format)
        workbook.close()

    floor()
    export_times, floor_times, export_cpu, floor_cpu = [], [], [], []
    for _ in range(runs):  # interleaved, so that a busy machine slows both alike
        for call, wall, cpu in (
            (export, export_times, export_cpu),
            (floor, floor_times, floor_cpu),
        ):
            spent = timed(call)
            wall.append(spent[0])
            cpu.append(spent[1])
    export_peak, floor_peak = peak_memory(export), peak_memory(floor)
    cells = sum(1 for _, rows in sheets for row in rows for value in row if value is not None)
    return Figures(
        label, result, cells, output.stat().st_size,
        statistics.median(export_times), statistics.median(floor_times),
        statistics.median(export_cpu), statistics.median(floor_cpu), export_peak, floor_peak,
    )  # fmt: skip


@dataclass
class NoticeFigures:
    label: str
    paragraphs: int
    cells: int
    size: int
    notice_s: float
    floor_s: float
    notice_peak: int
    floor_peak: int


def measure_notice(label: str, app, period_key: str, runs: int, folder: Path) -> NoticeFigures:
    from tracker.exports.notice import NoticeRequest, write_notice
    from tracker.periods import Period

    request = NoticeRequest(Period.parse(period_key))
    output = folder / f"{label}-notice.docx"

    def notice():
        with app.app_context():
            return write_notice(str(output), request)

    return compare_docx(label, notice, output, runs, folder)


def measure_department_docx(
    label: str, app, period_key: str, runs: int, folder: Path
) -> NoticeFigures:
    """The largest department's 报送 sheet as a Word document."""
    from tracker.catalogue.queries import department_by_code
    from tracker.exports.department import department_paper
    from tracker.exports.department_docx import write_department_docx
    from tracker.periods import Period

    code, _ = largest_department(app, period_key)
    output = folder / f"{label}.docx"

    def write():
        with app.app_context():
            paper = department_paper(department_by_code(code), Period.parse(period_key))
            write_department_docx(str(output), paper)

    return compare_docx(label, write, output, runs, folder)


def compare_docx(label: str, notice, output: Path, runs: int, folder: Path) -> NoticeFigures:
    """Time ``notice`` (which writes ``output``) beside a bare python-docx loop writing the
    same paragraphs and table cells."""
    notice()  # warm-up
    written = docx.Document(str(output))  # outside any measurement: the floor's input
    paragraphs = [p.text for p in written.paragraphs]
    tables = [[[c.text for c in row.cells] for row in table.rows] for table in written.tables]
    floor_output = folder / f"{label}-floor.docx"

    def floor():
        document = docx.Document()
        # Each bare paragraph goes in before the body's section properties, found once
        # (python-docx's add_paragraph looks them up among all the body's children each time,
        # which makes a long document quadratic; the export avoids that too).
        section_properties = document.element.body.get_or_add_sectPr()
        for text in paragraphs:
            element = OxmlElement("w:p")
            section_properties.addprevious(element)
            Paragraph(element, document).add_run(text)
        for rows in tables:
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for row, values in zip(table.rows, rows, strict=True):
                for cell, value in zip(row.cells, values, strict=True):
                    cell.text = value
        document.save(str(floor_output))

    floor()
    notice_times, floor_times = [], []
    for _ in range(runs):
        notice_times.append(timed(notice)[0])
        floor_times.append(timed(floor)[0])
    cells = sum(len(row) for rows in tables for row in rows)
    return NoticeFigures(
        label, len(paragraphs), cells, output.stat().st_size,
        statistics.median(notice_times), statistics.median(floor_times),
        peak_memory(notice), peak_memory(floor),
    )  # fmt: skip


def read_back(path: Path) -> list[tuple[str, list[tuple]]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return [(ws.title, list(ws.iter_rows(values_only=True))) for ws in workbook]
    finally:
        workbook.close()


def timed(call) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one call (CPU time is steadier on a shared machine)."""
    started, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - started, time.process_time() - cpu


def peak_memory(call) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    args = parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-excel-"))
    # Liaisons submit directly, as before departments' sign-off existed (TRACKER_SIGNOFF_REQUIRED).
    seed_app = make_app(
        folder / "seed.sqlite3", str(folder), TRACKER_FIRST_PERIOD=SEED_PERIOD,
        TRACKER_SIGNOFF_REQUIRED=False,
    )  # fmt: skip
    build_seed_quarter(seed_app)
    portfolio_app = make_app(args.db or folder / "portfolio.sqlite3", str(folder))
    build_portfolio(portfolio_app, args)
    with portfolio_app.app_context():
        from tracker.reports import queries as report_queries

        closed = report_queries.current_period().previous().key

    figures = [
        measure("seed-quarter", seed_app, SEED_PERIOD, args.runs, folder),
        measure("portfolio", portfolio_app, closed, args.runs, folder),
        measure_department("department", portfolio_app, closed, args.runs, folder),
    ]
    code, obligations = largest_department(portfolio_app, closed)
    print(
        f"\nXlsxWriter {xlsxwriter.__version__}, SQLAlchemy {sa.__version__}, SQLite; "
        f"median of {args.runs} runs (wall clock, and CPU time of this process);\n"
        "peak = tracemalloc peak during one write\n"
    )
    header = (
        f"{'dataset':24} {'obligations':>11} {'cells':>9} {'file KB':>8} {'export s':>9} "
        f"{'floor s':>8} {'× floor':>8} {'CPU × floor':>12} {'export MB':>10} {'floor MB':>9}"
    )
    print(header)
    print("-" * len(header))
    labels = {
        "seed-quarter": f"seed quarter {SEED_PERIOD}",
        "portfolio": f"portfolio {closed}",
        "department": f"报送表 {code} {closed}",
        "department-docx": f"报送表 {code} (Word)",
    }
    for f in figures:
        print(
            f"{labels[f.label]:24} {f.obligations:>11,} {f.cells:>9,} {f.size / 1024:>8,.0f} "
            f"{f.export_s:>9.3f} {f.floor_s:>8.3f} {f.export_s / f.floor_s:>8.2f} "
            f"{f.export_cpu / f.floor_cpu:>12.2f} "
            f"{f.export_peak / 2**20:>10.1f} {f.floor_peak / 2**20:>9.1f}"
        )
    print(
        f"\n报送表: the department with the most obligations in {closed} ({code}, "
        f"{obligations:,}), gathered and written; target under 2 s, memory flat"
    )
    notices = [
        measure_notice("seed-quarter", seed_app, SEED_PERIOD, args.runs, folder),
        measure_notice("portfolio", portfolio_app, closed, args.runs, folder),
        measure_department_docx("department-docx", portfolio_app, closed, args.runs, folder),
    ]
    print(
        f"\nWord documents (the 通报 draft; the largest department's 报送 sheet), python-docx "
        f"{docx.__version__}: median of {args.runs} runs, wall clock\n"
    )
    header = (
        f"{'dataset':24} {'paragraphs':>10} {'cells':>6} {'file KB':>8} {'notice s':>9} "
        f"{'floor s':>8} {'× floor':>8} {'notice MB':>10} {'floor MB':>9}"
    )
    print(header)
    print("-" * len(header))
    for n in notices:
        print(
            f"{labels[n.label]:24} {n.paragraphs:>10,} {n.cells:>6,} {n.size / 1024:>8,.0f} "
            f"{n.notice_s:>9.3f} {n.floor_s:>8.3f} {n.notice_s / n.floor_s:>8.2f} "
            f"{n.notice_peak / 2**20:>10.1f} {n.floor_peak / 2**20:>9.1f}"
        )
    print(f"\nworkbooks and drafts kept in {folder}")


if __name__ == "__main__":
    main()
