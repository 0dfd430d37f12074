"""``flask federation …``: member instances at the centre, exports for air-gapped networks,
adopting, mapping, reporting up and sending the push outbox at a province."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from tracker import instance
from tracker.catalogue.models import Department
from tracker.catalogue.queries import department_by_code, document_by_number
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.federation import outbox, queries, services
from tracker.federation.models import MemberInstance

federation_cli = AppGroup("federation", help="上下级实例联动：下级实例、文件导出与采纳、上报。")


def _fail(message: str) -> NoReturn:
    db.session.rollback()
    raise click.ClickException(message)


@federation_cli.command("add-member")
@click.option("--code", required=True, help="6 位行政区划代码，如 130000")
@click.option("--name", required=True, help="名称，如 河北省")
@click.option("--level", default=None,
              type=click.Choice(["provincial", "prefectural", "county"]),
              help="下级实例的层级（默认：本实例的下一级）")  # fmt: skip
def add_member(code: str, name: str, level: str | None) -> None:
    """Register a member instance and print its instance token (shown only this once)."""
    allowed = instance.current().member_levels
    try:
        member, token = services.add_member(
            code, name, level or (allowed[0] if allowed else ""), actor=None
        )
    except DomainError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(f"已登记 {member.name}（{member.code}）。实例令牌（只显示这一次）：")
    click.echo(token)


@federation_cli.command("revoke-member")
@click.option("--code", required=True)
def revoke_member(code: str) -> None:
    """Revoke a member instance's token (its roll-ups stay)."""
    member = db.session.scalar(sa.select(MemberInstance).where(MemberInstance.code == code))
    if member is None:
        _fail(f"没有代码为 {code} 的下级实例。")
    try:
        services.revoke_member(member, actor=None)
    except DomainError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(f"已撤销 {member.name} 的实例令牌。")


@federation_cli.command("export-document")
@click.argument("number")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export_document(number: str, out: Path) -> None:
    """Write a document as tracker.document/1 JSON, for a network without a link upward."""
    document = document_by_number(number)
    if document is None:
        _fail(f"没有文件 {number}。")
    export = queries.export_document(document)
    out.write_text(json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8")
    click.echo(f"已导出 {number}（revision {export['revision'][:12]}）到 {out}")


@federation_cli.command("adopt")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--number", help="从 TRACKER_UPSTREAM_URL 拉取的文号")
def adopt(path: Path | None, number: str | None) -> None:
    """Adopt a document from an exported file, or pull it from the level above."""
    if (path is None) == (number is None):
        _fail("请给出 --file 或 --number 之一。")
    try:
        data = path.read_bytes() if path is not None else outbox.pull_export(number or "")
        adoption = services.adopt(services.read_export(data), actor=None)
    except outbox.Temporary as exc:
        _fail(str(exc))
    except DomainError as exc:
        _fail(exc.message)
    db.session.commit()
    pending = "；上级的新版本待接受" if adoption.pending_revision else ""
    click.echo(f"已采纳 {adoption.central_number}（revision {adoption.revision[:12]}）{pending}")


@federation_cli.command("map")
@click.argument("number")
@click.option("--central", required=True, help="中央部门代码，如 mca")
@click.option("--department", required=True, help="本实例的部门代码")
def map_department(number: str, central: str, department: str) -> None:
    """Map a central department of an adopted document to one of this instance's."""
    adoption = queries.adoption_of_number(number)
    local: Department | None = department_by_code(department)
    if adoption is None or local is None:
        _fail("没有该采纳文件或本地部门。")
    try:
        services.map_departments(adoption, {central: local}, actor=None)
    except DomainError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(f"{central} → {local.name}")


@federation_cli.command("report-up")
@click.argument("number")
@click.option("--period", required=True, help="季度，如 2026Q3")
def report_up(number: str, period: str) -> None:
    """上报 a consolidated quarter of an adopted document (into the push outbox)."""
    adoption = queries.adoption_of_number(number)
    if adoption is None:
        _fail(f"没有采纳的文件 {number}。")
    try:
        push = services.report_up(adoption, period, actor=None)
    except DomainError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(f"{period} 第 {push.revision} 版已进入上报队列。")


@federation_cli.command("push")
def push() -> None:
    """Send the roll-ups that are due to the level above (the scheduler does this too)."""
    report = outbox.deliver_pending()
    if not report.configured:
        _fail("未配置 TRACKER_UPSTREAM_URL 或 TRACKER_UPSTREAM_TOKEN。")
    click.echo(
        f"送达 {report.delivered}，待重试 {report.retrying}，被拒收 {report.refused}，"
        f"已放弃 {report.gave_up}"
    )
    for error in report.errors:
        click.echo(error, err=True)
