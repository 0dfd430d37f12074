"""The ``flask --app tracker export`` commands.

* ``export quarterly [--period 2026Q3] [--document NUMBER] --output FILE.xlsx``
* ``export notice [--period 2026Q3] [--document NUMBER] --output FILE.docx``
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
from flask.cli import AppGroup

from tracker.catalogue.queries import document_by_number
from tracker.exports.files import write_atomically
from tracker.exports.notice import NoticeRequest, write_notice
from tracker.exports.quarterly import QuarterlyRequest, write_quarterly
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports import services as report_services

export_cli = AppGroup("export", help="导出 Excel 报表和 Word 文稿 / export workbooks, documents.")
_T = TypeVar("_T")


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
    period, document_id = _period_and_document(period_key, document_number)
    # As the web pages do on a visit: make sure the period's obligations exist.
    report_services.open_period(period)
    db.session.commit()
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
    period, document_id = _period_and_document(period_key, document_number)
    report_services.open_period(period)
    db.session.commit()
    number = document_number.strip() if document_id is not None and document_number else None
    request = NoticeRequest(period, document_id, number)
    _directory_of(path)
    figures = write_notice(str(path), request)  # atomic: OfficialDocument.save renames
    h = figures.headline
    click.echo(
        f"已生成 {output}：{period.label}通报代拟稿，应报任务 {h.obligations} 项，"
        f"逾期未报 {h.overdue} 项，数据截至 {figures.judged_on.isoformat()}。"
    )


def _period_and_document(
    period_key: str | None, document_number: str | None
) -> tuple[Period, int | None]:
    """The period (default: the current one) and the document's id; refused in words."""
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
    if not document_number:
        return period, None
    document = document_by_number(document_number.strip())
    if document is None:
        raise click.BadParameter(f"没有文号为“{document_number}”的文件", param_hint="--document")
    return period, document.id


def _write_atomically(path: Path, write: Callable[[str], _T]) -> _T:
    """Write next to ``path`` and rename, so a failed export never leaves half a file."""
    _directory_of(path)
    return write_atomically(path, write)


def _directory_of(path: Path) -> Path:
    """The output's directory, which must exist."""
    directory = path.resolve().parent
    if not directory.is_dir():
        raise click.BadParameter(f"目录不存在：{directory}", param_hint="--output")
    return directory
