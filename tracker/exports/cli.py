"""``flask --app tracker export quarterly [--period 2026Q3] [--document NUMBER] --output FILE``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask.cli import AppGroup

from tracker.catalogue.queries import document_by_number
from tracker.exports.quarterly import QuarterlyRequest, QuarterlyResult, write_quarterly
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports import services as report_services

export_cli = AppGroup("export", help="导出 Excel 报表 / export Excel workbooks.")


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
    document_id = None
    if document_number:
        document = document_by_number(document_number.strip())
        if document is None:
            raise click.BadParameter(
                f"没有文号为“{document_number}”的文件", param_hint="--document"
            )
        document_id = document.id
    # As the web pages do on a visit: make sure the period's obligations exist.
    report_services.open_period(period)
    db.session.commit()
    result = _write_atomically(Path(output), QuarterlyRequest(period, document_id))
    click.echo(
        f"已生成 {output}：{period.label}，{result.obligations} 个填报事项，"
        f"逾期未报 {result.overdue} 个，催办记录 {result.urges} 条。"
    )


def _write_atomically(path: Path, request: QuarterlyRequest) -> QuarterlyResult:
    """Write next to ``path`` and rename, so a failed export never leaves half a file."""
    directory = path.resolve().parent
    if not directory.is_dir():
        raise click.BadParameter(f"目录不存在：{directory}", param_hint="--output")
    handle, temporary = tempfile.mkstemp(suffix=".xlsx", dir=directory)
    os.close(handle)
    try:
        result = write_quarterly(temporary, request)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result
