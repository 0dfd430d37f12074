"""The worked example of a delivery plan from ``tasks_seed.yaml`` (its ``delivery:`` list).

Item 23 (county-level 摸底排查 and the 信息台账): aggregate counts only, never a person.
Each entry becomes version 1 of the department's plan, already approved (a seed has no
coordinator to ask); a department that has any version of a plan for the item is left as it
is, so running the seed again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from tracker import clock, privacy
from tracker.audit.services import record_event
from tracker.catalogue.models import Department, PolicyDocument, Task
from tracker.delivery import queries, services
from tracker.delivery.models import Combine, DeliveryPlan, Direction, Indicator, PlanState
from tracker.extensions import db


class DeliverySeedError(ValueError):
    """The ``delivery:`` list is wrong; ``problems`` says where."""

    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems))
        self.problems = problems


def read_entries(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """(document number, the ``delivery:`` entries) of a seed file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    number = str((data.get("document") or {}).get("number") or "")
    entries = data.get("delivery") or []
    if not isinstance(entries, list):
        raise DeliverySeedError(["delivery：应为列表"])
    return number, entries


def apply_delivery_seed(path: Path) -> int:
    """Write the seed's example plans that are missing; returns how many were written."""
    number, entries = read_entries(path)
    document = db.session.scalar(sa.select(PolicyDocument).where(PolicyDocument.number == number))
    if document is None:
        raise DeliverySeedError([f"文件 {number} 尚未导入：请先运行 flask seed"])
    departments = {d.name: d for d in db.session.scalars(sa.select(Department))}
    written, problems = 0, []
    for n, entry in enumerate(entries, start=1):
        where = f"delivery 第 {n} 项"
        task = db.session.scalar(
            sa.select(Task).where(Task.document_id == document.id, Task.number == entry.get("item"))
        )
        department = departments.get(str(entry.get("department")))
        if task is None or department is None:
            problems.append(f"{where}：事项或部门不存在")
            continue
        if queries.latest_version(task.id, department.id) is not None:
            continue
        indicators = [_indicator(raw, departments, f"{where} 指标 {k}", problems)
                      for k, raw in enumerate(entry.get("indicators") or [], start=1)]  # fmt: skip
        if problems:
            continue
        plan = DeliveryPlan(task=task, department=department, number=1, state=PlanState.APPROVED,
                            decided_at=clock.utcnow())  # fmt: skip
        plan.indicators = [i for i in indicators if i is not None]
        db.session.add(plan)
        db.session.flush()
        record_event("plan.seed", plan, after=services.snapshot(plan))
        written += 1
    if problems:
        raise DeliverySeedError(problems)
    return written


def _indicator(
    raw: Any, departments: dict[str, Department], where: str, problems: list[str]
) -> Indicator | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}：应为映射")
        return None
    try:
        names = [str(n) for n in raw.get("departments") or []]
        indicator = Indicator(
            key=services.new_key(), name=str(raw["name"]), unit=str(raw["unit"]),
            direction=Direction(raw["direction"]), combine=Combine(raw["combine"]),
            baseline_value=Decimal(str(raw["baseline"])), target_value=Decimal(str(raw["target"])),
            baseline_date=_date(raw["baseline_date"]), target_date=_date(raw["target_date"]),
            department_ids=sorted(departments[n].id for n in names),
        )  # fmt: skip
    except (KeyError, ValueError, InvalidOperation, TypeError) as exc:
        problems.append(f"{where}：字段缺失或无效（{exc}）")
        return None
    if not indicator.department_ids or indicator.baseline_date >= indicator.target_date:
        problems.append(f"{where}：须有报送部门，且基线日期早于目标日期")
    for text in (indicator.name, indicator.unit):
        if privacy.find_personal_data(text):
            problems.append(f"{where}：含有个人信息")
    return indicator


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
