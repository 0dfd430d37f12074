"""``flask --app tracker export quarterly|department|notice …``: the papers, from the command line.

* ``export quarterly [--period 2026Q3] [--document NUMBER] --output FILE.xlsx``
* ``export notice [--period 2026Q3] [--document NUMBER] --output FILE.docx``: the quarterly
  通报 draft.
* ``export department --department NAME_OR_CODE [--period P] [--document NUMBER]
  --output FILE.xlsx|FILE.docx``: a department's 报送 sheet (handed-in reports only).
* ``export run-jobs``: write the exports queued by pages now (the scheduler does it itself).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
from flask.cli import AppGroup

from tracker.catalogue.queries import department_by_name_or_code, document_by_number
from tracker.exports import background
from tracker.exports.department import department_paper, write_department_xlsx
from tracker.exports.department_docx import write_department_docx
from tracker.exports.files import write_atomically
from tracker.exports.notice import NoticeRequest, write_notice
from tracker.exports.quarterly import QuarterlyRequest, write_quarterly
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports import services as report_services

T = TypeVar("T")
# A department's paper, by the output's suffix.
PAPER_WRITERS = {".xlsx": write_department_xlsx, ".docx": write_department_docx}

export_cli = AppGroup("export", help="导出报表和报送表 / export workbooks and papers.")


@export_cli.command("quarterly")
@click.option("--period", "period_key", help="报告期，如 2026Q3（默认：当前报告期，与看板相同）")
@click.option("--document", "document_number", help="只导出该文号的文件（默认：全部文件）")
@click.option(
    "--output", required=True, type=click.Path(dir_okay=False), help="输出文件，如 季度报表.xlsx"
)
def quarterly_command(period_key: str | None, document_number: str | None, output: str) -> None:
    """Write the quarterly workbook of every department (the coordinators' view).

    Without --period: the quarter being reported on, the dashboard's default.
    """
    period = _period(period_key)
    document_id = _document_id(document_number)
    request = QuarterlyRequest(period, document_id)
    result = _write_atomically(Path(output), lambda path: write_quarterly(path, request))
    click.echo(
        f"已生成 {output}：{period.label}，{result.obligations} 个填报事项，"
        f"逾期未报 {result.overdue} 个，催办记录 {result.urges} 条。"
    )


@export_cli.command("notice")
@click.option("--period", "period_key", help="报告期，如 2026Q3（默认：当前报告期，与看板相同）")
@click.option("--document", "document_number", help="只通报该文号的文件（默认：全部文件）")
@click.option(
    "--output", required=True, type=click.Path(dir_okay=False), help="输出文件，如 季度通报.docx"
)
def notice_command(period_key: str | None, document_number: str | None, output: str) -> None:
    """Write the quarterly 通报 draft (Word, GB/T 9704-2012) from the dashboard's figures.

    Without --period: the quarter being reported on, the dashboard's default.
    """
    path = Path(output)
    if path.suffix.lower() != ".docx":
        raise click.BadParameter(f"输出文件须以 .docx 结尾：{output}", param_hint="--output")
    period = _period(period_key)
    document_id = _document_id(document_number)
    number = document_number.strip() if document_id is not None and document_number else None
    request = NoticeRequest(period, document_id, number)
    figures = _write_atomically(path, lambda target: write_notice(target, request))
    h = figures.headline
    click.echo(
        f"已生成 {output}：{period.label}通报代拟稿，应报任务 {h.obligations} 项，"
        f"逾期未报 {h.overdue} 项，数据截至 {figures.judged_on.isoformat()}。"
    )


@export_cli.command("department")
@click.option(
    "--department", "department_name", required=True, help="部门名称或代码，如 公安部 或 mps"
)
@click.option("--period", "period_key", help="报告期，如 2026Q3（默认：当前报告期）")
@click.option("--document", "document_number", help="只导出该文号的文件（默认：全部文件）")
@click.option(
    "--output", required=True, type=click.Path(dir_okay=False),
    help="输出文件：.xlsx（Excel）或 .docx（Word），由后缀决定格式",
)  # fmt: skip
def department_command(
    department_name: str, period_key: str | None, document_number: str | None, output: str
) -> None:
    """Write a department's 报送 sheet: its items with its handed-in reports, the sign-off,
    and the block for the leader's signature and the unit's seal."""
    path = Path(output)
    suffix = path.suffix.lower()
    if suffix not in PAPER_WRITERS:
        raise click.BadParameter("文件名须以 .xlsx 或 .docx 结尾", param_hint="--output")
    department = department_by_name_or_code(department_name)
    if department is None:
        raise click.BadParameter(
            f"没有名称或代码为“{department_name}”的部门", param_hint="--department"
        )
    period = _period(period_key)
    document_id = _document_id(document_number)
    paper = department_paper(department, period, document_id=document_id)
    write = PAPER_WRITERS[suffix]
    _write_atomically(path, lambda target: write(target, paper))
    counts = paper.counts
    click.echo(
        f"已生成 {output}：{department.name}，{period.label}，{len(paper.lines)} 个事项，"
        f"已报送 {counts.submitted} 个，逾期未报 {counts.overdue} 个。"
    )


def _period(period_key: str | None) -> Period:
    """The ``--period`` asked for (default: the quarter being reported on), if tracked, with
    its obligations opened."""
    try:
        period = Period.parse(period_key) if period_key else report_queries.current_period()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    tracked = report_queries.tracked_periods()
    if period not in tracked:
        raise click.BadParameter(
            f"{period.key} 不在跟踪范围内（{tracked[-1].key} 至 {tracked[0].key}）",
            param_hint="--period",
        )
    # As the web pages do on a visit: make sure the period's obligations exist.
    report_services.open_period(period)
    db.session.commit()
    return period


def _document_id(document_number: str | None) -> int | None:
    if not document_number:
        return None
    document = document_by_number(document_number.strip())
    if document is None:
        raise click.BadParameter(f"没有文号为“{document_number}”的文件", param_hint="--document")
    return document.id


def _write_atomically(path: Path, write: Callable[[str], T]) -> T:
    """Write next to ``path`` and rename, so a failed export never leaves half a file."""
    directory = path.resolve().parent
    if not directory.is_dir():
        raise click.BadParameter(f"目录不存在：{directory}", param_hint="--output")
    return write_atomically(path, write)


@export_cli.command("run-jobs")
def run_jobs_command() -> None:
    """Write the exports queued by pages now (the scheduler does so every few seconds).

    Safe beside a running scheduler: each queued export is claimed by one process only.
    """
    result = background.run_pending()
    click.echo(
        f"后台导出：生成 {result.written} 个，失败 {result.failed} 个，"
        f"重新排队 {result.requeued} 个，清理过期文件 {result.expired} 个。"
    )
