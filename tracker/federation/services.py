"""Writes of the cascade. Like every service: change state, write the audit event, flush,
never commit.

At the centre: register and revoke member instances, receive roll-ups. At a province: adopt
a document from above, map the central departments, break an item down, accept a newer
export, and write the quarter's roll-up to the push outbox.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tracker import clock, instance
from tracker.audit.services import record_event
from tracker.auth.models import User
from tracker.catalogue.models import Assignment, Department, PolicyDocument, Role, Task
from tracker.catalogue.services import national_jurisdiction
from tracker.delivery.models import (
    Combine,
    DeliveryPlan,
    Direction,
    Indicator,
    Milestone,
    PlanState,
)
from tracker.errors import Conflict, DomainError, Invalid
from tracker.extensions import db
from tracker.federation import queries, wire
from tracker.federation.models import (
    AdoptedItem,
    Adoption,
    MemberInstance,
    PushMessage,
    ReceivedRollup,
    RollupItem,
)
from tracker.privacy import check_text


class FederationError(Conflict):
    """A cascade step refused for a reason the coordinator can act on."""


class BadSubmission(Invalid):
    """A roll-up or export whose content does not fit (400)."""


class DuplicateRevision(Conflict):
    """Another body under a revision the centre already holds (409)."""


TOKEN_PREFIX = "fed"  # noqa: S105 - the tokens' public marker, not a secret


# -- the centre -------------------------------------------------------------------------------


def add_member(
    code: str, name: str, level: str, *, actor: User | None
) -> tuple[MemberInstance, str]:
    """Register an instance one level down; returns the row and its token (shown once)."""
    code, name = (code or "").strip(), (name or "").strip()
    if not re.match(wire.CODE, code):
        raise Invalid("行政区划代码应为 6 位数字（如 130000）。", field="code")
    if code == instance.current().code:
        raise Invalid("不能把本实例自己登记为下级实例。", field="code")
    if not name or len(name) > 64:
        raise Invalid("名称不能为空，且不超过 64 个字符。", field="name")
    here = instance.current()
    if level not in here.member_levels:
        raise Invalid(here.member_refusal, field="level")
    if db.session.scalar(sa.select(MemberInstance).where(MemberInstance.code == code)):
        raise Invalid(f"代码 {code} 已登记。", field="code")
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    member = MemberInstance(
        code=code, name=name, level=level, prefix=prefix, token_hash=wire.token_digest(raw)
    )
    db.session.add(member)
    db.session.flush()
    record_event("federation.member_add", member, actor=actor, after=_member(member))
    return member, raw


def revoke_member(member: MemberInstance, *, actor: User | None) -> None:
    if member.revoked_at is not None:
        raise FederationError(f"{member.name} 的实例令牌已撤销。")
    before = _member(member)
    member.revoked_at = clock.utcnow()
    db.session.flush()
    record_event(
        "federation.member_revoke", member, actor=actor, before=before, after=_member(member)
    )


def _member(member: MemberInstance) -> dict[str, Any]:
    return {"code": member.code, "name": member.name, "level": member.level,
            "prefix": member.prefix, "revoked": member.revoked_at is not None}  # fmt: skip


def note_use(member: MemberInstance) -> None:
    member.last_used_at = clock.utcnow()
    db.session.flush()


def receive_rollup(
    member: MemberInstance, body: bytes, rollup: wire.Rollup
) -> tuple[ReceivedRollup, bool]:
    """Store one revision of a member's roll-up once; (row, duplicate).

    The same body again answers the stored receipt; another body under a revision already
    held is refused (409). Revisions are independent: a lower revision than the latest held
    is stored too when new (it is history, and the latest stays the highest), so that a
    delayed delivery of an earlier correction is never lost nor mistaken for the latest.
    """
    if rollup.instance.code != member.code:
        raise BadSubmission(
            f"报送方代码 {rollup.instance.code} 与实例令牌所属的 {member.code} 不符。",
            field="instance.code",
        )
    if rollup.instance.level != member.level:
        raise BadSubmission(
            f"报送方层级{instance.LEVELS[rollup.instance.level]}与登记的"
            f"{instance.LEVELS.get(member.level, member.level)}不符。",
            field="instance.level",
        )
    here = instance.current()
    if rollup.instance.level not in here.member_levels:
        raise BadSubmission(
            f"{here.level_label}实例不接收{instance.LEVELS[rollup.instance.level]}实例的报送。",
            field="instance.level",
        )
    digest = wire.sha256_hex(body)
    existing = queries.rollup_row(member.id, rollup.document_number, rollup.period, rollup.revision)
    if existing is not None:
        if existing.digest == digest:
            return existing, True
        raise DuplicateRevision(
            f"第 {rollup.revision} 版已收到且内容不同：更正请以新的版本号报送。"
        )
    _check_against_document(rollup)
    row = ReceivedRollup(
        member_id=member.id, document_number=rollup.document_number, period=rollup.period,
        revision=rollup.revision, digest=digest,
        receipt=wire.receipt_number(member.code, rollup.period, rollup.revision, digest),
        body=rollup.model_dump(mode="json"), received_at=clock.utcnow(),
    )  # fmt: skip
    db.session.add(row)
    db.session.flush()
    # The compact form the provinces matrix reads, in the same transaction as the row.
    items = RollupItem.rows_of(row.id, row.body)
    if items:
        db.session.execute(sa.insert(RollupItem), items)
    record_event(
        "federation.rollup_receive", row, actor=None,
        after={"member": member.code, "document": rollup.document_number,
               "period": rollup.period, "revision": rollup.revision, "digest": digest},
    )  # fmt: skip
    return row, False


def _check_against_document(rollup: wire.Rollup) -> None:
    from tracker.catalogue.queries import document_by_number

    document = document_by_number(rollup.document_number)
    if document is None:
        raise BadSubmission(f"中央没有文件 {rollup.document_number}。", field="document_number")
    export = queries.export_document(document)
    numbers = {i["number"] for i in export["items"]}
    milestone_keys = {
        (p["item_number"], m["key"]) for p in export["plans"] for m in p["milestones"]
    }
    indicator_keys = {
        (p["item_number"], i["key"]) for p in export["plans"] for i in p["indicators"]
    }
    for n, item in enumerate(rollup.items):
        if item.item_number not in numbers:
            raise BadSubmission(f"该文件没有第 {item.item_number} 项。", field=f"items.{n}")
        for m in item.milestones:
            if (item.item_number, m.key) not in milestone_keys:
                raise BadSubmission(
                    f"第 {item.item_number} 项的计划没有节点 {m.key}。",
                    field=f"items.{n}.milestones",
                )
        for i in item.indicators:
            if (item.item_number, i.key) not in indicator_keys:
                raise BadSubmission(
                    f"第 {item.item_number} 项的计划没有指标 {i.key}。",
                    field=f"items.{n}.indicators",
                )
        refused = check_text(f"第 {item.item_number} 项进展", item.narrative)
        if refused:
            raise BadSubmission(refused, field=f"items.{n}.narrative")


def receipt_of(row: ReceivedRollup, duplicate: bool) -> dict[str, Any]:
    return wire.Receipt(
        receipt=row.receipt, instance_code=row.member.code, document_number=row.document_number,
        period=row.period, revision=row.revision, digest=row.digest,
        received_at=wire.iso(row.received_at), duplicate=duplicate,
    ).model_dump(mode="json")  # fmt: skip


# -- a province -------------------------------------------------------------------------------


def read_export(data: bytes | str | dict[str, Any]) -> wire.DocumentExport:
    """Parse and check an export (a file or the centre's answer); ``BadSubmission`` else."""
    import json

    from pydantic import ValidationError

    try:
        raw = json.loads(data) if isinstance(data, bytes | str) else data
        export = wire.DocumentExport.model_validate(raw)
    except (ValueError, ValidationError) as exc:
        raise BadSubmission(
            f"不是有效的文件导出（{wire.DOCUMENT_FORMAT}）：{_first(exc)}", field="file"
        ) from None
    if not export.revision_matches():
        raise BadSubmission("导出内容与其 revision 不符：文件可能被改动。", field="file")
    return export


def _first(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)[:200]


def adopt(export: wire.DocumentExport, *, actor: User | None) -> Adoption:
    """Adopt a document from above: the document, its items linked to the central items; the
    assignments and plans follow once the departments are mapped (:func:`map_departments`).

    A document adopted before is not adopted again: a newer export waits as a diff to accept.
    """
    here = instance.current()
    if here.central:
        raise FederationError("中央实例不采纳上级文件：请在省级（或更低层级）实例上操作。")
    if not instance.is_above(export.source.level, here.level):
        raise FederationError(
            f"只能采纳上级实例的文件：{export.source.name}是"
            f"{instance.LEVELS[export.source.level]}，本实例是{here.level_label}。"
        )
    existing = queries.adoption_of_number(export.document.number)
    if existing is not None:
        stage_update(existing, export, actor=actor)
        return existing
    from tracker.catalogue.queries import document_by_number

    if document_by_number(export.document.number) is not None:
        raise FederationError(f"本实例已有文件 {export.document.number}（并非采纳而来）。")
    doc = export.document
    document = PolicyDocument(
        number=doc.number, title=doc.title, issuer=doc.issuer,
        issued=date.fromisoformat(doc.issued) if doc.issued else None,
        first_period=doc.first_period,
    )  # fmt: skip
    db.session.add(document)
    adoption = Adoption(
        document=document, source_code=export.source.code, source_name=export.source.name,
        central_number=doc.number, revision=export.revision,
        content=export.model_dump(mode="json"),
    )  # fmt: skip
    db.session.add(adoption)
    for item in export.items:
        task = Task(document=document, number=item.number, section=item.section,
                    text=item.text, clause=item.clause)  # fmt: skip
        db.session.add(task)
        adoption.items.append(
            AdoptedItem(task=task, central_item_number=item.number, revision=export.revision)
        )
    db.session.flush()
    apply_mapping(adoption)
    record_event(
        "federation.adopt", adoption, actor=actor,
        after={"document": doc.number, "revision": export.revision, "items": len(export.items)},
    )  # fmt: skip
    return adoption


def map_departments(
    adoption: Adoption, mapping: dict[str, Department | None], *, actor: User | None
) -> Adoption:
    """Map central department codes to local departments (None: unmap), then create the
    assignments and plans the mapping allows."""
    known = {d["code"] for d in adoption.content["departments"]}
    before = {code: d.code for code, d in queries.mapped_departments().items()}
    for code, department in mapping.items():
        if code not in known:
            raise Invalid(f"导出中没有中央部门 {code}。", field=code)
        current = queries.mapped_departments().get(code)
        if current is not None and current is not department:
            current.central_code = None
        if department is not None:
            if department.central_code not in (None, code):
                raise Invalid(
                    f"{department.name} 已对应中央部门 {department.central_code}。", field=code
                )
            department.central_code = code
        db.session.flush()
    apply_mapping(adoption)
    after = {code: d.code for code, d in queries.mapped_departments().items()}
    record_event("federation.map", adoption, actor=actor, before=before, after=after)
    return adoption


def apply_mapping(adoption: Adoption) -> None:
    """For each adopted (not broken-down) item: an assignment per mapped central department,
    and a copy of each central plan in force whose department is mapped (keys kept)."""
    mapped = queries.mapped_departments()
    central_items = {i["number"]: i for i in adoption.content["items"]}
    jurisdiction = national_jurisdiction()
    for link in adoption.items:
        if link.parent_task_id is not None:
            continue
        item = central_items.get(link.central_item_number)
        if item is None:
            continue
        task = link.task
        have = {a.department_id for a in task.assignments}
        for position, a in enumerate(item["assignments"]):
            department = mapped.get(a["department_code"])
            if department is None or department.id in have:
                continue
            task.assignments.append(
                Assignment(department=department, jurisdiction=jurisdiction,
                           role=Role(a["role"]), position=position)
            )  # fmt: skip
            have.add(department.id)
        db.session.flush()
        for plan in adoption.content["plans"]:
            if plan["item_number"] != link.central_item_number:
                continue
            department = mapped.get(plan["department_code"])
            if department is not None:
                copy_plan(task, department, plan, mapped)
    db.session.flush()


ADOPTED_PLAN_REASON = "采纳上级计划"


def _add_mapped_reporters(
    local: DeliveryPlan, plan: dict[str, Any], mapped: dict[str, Department]
) -> None:
    """A department mapped after the plan was copied reports its indicators from now on
    (the copy, still version 1 as it came from above, is not otherwise changed)."""
    central = {i["key"]: i for i in plan["indicators"]}
    for indicator in local.indicators:
        codes = central.get(indicator.key, {}).get("department_codes", [])
        wanted = sorted(
            set(indicator.department_ids or []) | {mapped[c].id for c in codes if c in mapped}
        )
        if wanted != sorted(indicator.department_ids or []):
            indicator.department_ids = wanted


def copy_plan(
    task: Task,
    department: Department,
    plan: dict[str, Any],
    mapped: dict[str, Department],
    own: list[Department] | None = None,
) -> DeliveryPlan | None:
    """The central plan as the local department's plan in force (version 1, keys kept),
    unless the department already has a plan for the item. On a sub-item (``own``: its
    departments) the lead answers for every milestone and its departments report the
    indicators; on an adopted item the mapped central departments do."""
    exists = db.session.scalar(
        sa.select(DeliveryPlan)
        .where(DeliveryPlan.task_id == task.id, DeliveryPlan.department_id == department.id)
        .order_by(DeliveryPlan.number.desc())
        .limit(1)
    )
    if exists is not None:
        if not own and exists.number == 1 and exists.change_reason == ADOPTED_PLAN_REASON:
            _add_mapped_reporters(exists, plan, mapped)
        return None
    copy = DeliveryPlan(task_id=task.id, department_id=department.id, number=1,
                        state=PlanState.APPROVED, decided_at=clock.utcnow(),
                        change_reason=ADOPTED_PLAN_REASON)  # fmt: skip
    for n, m in enumerate(plan["milestones"]):
        owner = department if own else mapped.get(m["department_code"]) or department
        copy.milestones.append(
            Milestone(key=m["key"], position=n, title=m["title"], due_period=m["due_period"],
                      department_id=owner.id)
        )  # fmt: skip
    for n, i in enumerate(plan["indicators"]):
        reporters = sorted(
            {d.id for d in own} if own else
            {mapped[c].id for c in i["department_codes"] if c in mapped}
        )  # fmt: skip
        copy.indicators.append(
            Indicator(
                key=i["key"], position=n, name=i["name"], unit=i["unit"],
                direction=Direction(i["direction"]),
                baseline_value=Decimal(i["baseline_value"]),
                baseline_date=date.fromisoformat(i["baseline_date"]),
                target_value=Decimal(i["target_value"]),
                target_date=date.fromisoformat(i["target_date"]),
                combine=Combine(i["combine"]), department_ids=reporters or [department.id],
            )
        )  # fmt: skip
    db.session.add(copy)
    db.session.flush()
    record_event("plan.adopt", copy, actor=None,
                 after={"task": task.number, "department": department.code,
                        "milestones": len(copy.milestones),
                        "indicators": len(copy.indicators)})  # fmt: skip
    return copy


def break_down(
    link: AdoptedItem,
    text: str,
    lead: Department,
    supporting: list[Department],
    *,
    actor: User | None,
) -> AdoptedItem:
    """分解: a provincial sub-item of an adopted item, with its own lead and supporting
    departments; the central item's plans are copied to its lead as the starting point."""
    text = (text or "").strip()
    if not text:
        raise Invalid("请填写子任务内容。", field="text")
    if len(text) > 2000:
        raise Invalid("子任务内容不超过 2000 字。", field="text")
    refused = check_text("子任务内容", text)
    if refused:
        raise Invalid(refused, field="text")
    if lead in supporting:
        raise Invalid("牵头部门不能同时是配合部门。", field="supporting")
    parent = link.task
    number = (db.session.scalar(
        sa.select(sa.func.max(Task.number)).where(Task.document_id == parent.document_id)
    ) or 0) + 1  # fmt: skip
    names = [lead.name, *(d.name for d in supporting)]
    clause = f"{names[0]}牵头" + (f"，{'、'.join(names[1:])}配合" if len(names) > 1 else "")
    task = Task(document_id=parent.document_id, number=number, section=parent.section,
                text=text, clause=clause,
                main_text_note=f"分解自第{link.central_item_number}项")  # fmt: skip
    jurisdiction = national_jurisdiction()
    task.assignments.append(Assignment(department=lead, jurisdiction=jurisdiction, role=Role.LEAD))
    for position, department in enumerate(supporting, start=1):
        task.assignments.append(
            Assignment(department=department, jurisdiction=jurisdiction, role=Role.SUPPORT,
                       position=position)
        )  # fmt: skip
    db.session.add(task)
    sub = AdoptedItem(adoption=link.adoption, task=task, revision=link.revision,
                      central_item_number=link.central_item_number,
                      parent_task_id=parent.id)  # fmt: skip
    db.session.add(sub)
    db.session.flush()
    mapped = queries.mapped_departments()
    for plan in link.adoption.content["plans"]:
        if plan["item_number"] == link.central_item_number:
            copy_plan(task, lead, plan, mapped, own=[lead, *supporting])
            break
    record_event("federation.break_down", task, actor=actor,
                 after={"central_item": link.central_item_number, "number": number,
                        "lead": lead.code, "supporting": [d.code for d in supporting]})  # fmt: skip
    return sub


def stage_update(
    adoption: Adoption, export: wire.DocumentExport, *, actor: User | None
) -> Adoption:
    """Keep a newer export of an adopted document, to be shown as a diff and accepted."""
    if export.revision in (adoption.revision, adoption.pending_revision):
        return adoption
    adoption.pending_revision = export.revision
    adoption.pending_content = export.model_dump(mode="json")
    db.session.flush()
    record_event("federation.update_staged", adoption, actor=actor,
                 after={"revision": export.revision})  # fmt: skip
    return adoption


def accept_update(adoption: Adoption, *, actor: User | None) -> Adoption:
    """Accept the waiting export: changed items take its text and clause, new items are
    added (and mapped), new plans copied. Removed items stay, marked in the diff, for the
    coordinator to retire: their reports are history."""
    if adoption.pending_content is None:
        raise FederationError("没有待接受的上级更新。")
    new = adoption.pending_content
    diff = queries.export_diff(adoption.content, new)
    items = {i["number"]: i for i in new["items"]}
    local = {
        link.central_item_number: link for link in adoption.items if link.parent_task_id is None
    }
    for number in diff.items_changed:
        task = local[number].task
        task.text, task.clause, task.section = (
            items[number]["text"],
            items[number]["clause"],
            items[number]["section"],
        )
    for number in diff.items_added:
        item = items[number]
        taken = db.session.scalar(
            sa.select(Task.id).where(
                Task.document_id == adoption.document_id, Task.number == number
            )
        )
        local_number = number if taken is None else (db.session.scalar(
            sa.select(sa.func.max(Task.number)).where(Task.document_id == adoption.document_id)
        ) or 0) + 1  # fmt: skip
        task = Task(document_id=adoption.document_id, number=local_number,
                    section=item["section"], text=item["text"], clause=item["clause"])  # fmt: skip
        db.session.add(task)
        adoption.items.append(
            AdoptedItem(
                task=task, central_item_number=number, revision=adoption.pending_revision or ""
            )
        )
    before = {"revision": adoption.revision}
    adoption.revision = adoption.pending_revision or adoption.revision
    adoption.content = new
    adoption.pending_revision = adoption.pending_content = None
    adoption.updated_at = clock.utcnow()
    for link in adoption.items:
        link.revision = adoption.revision
    db.session.flush()
    apply_mapping(adoption)
    record_event("federation.update_accept", adoption, actor=actor, before=before,
                 after={"revision": adoption.revision, "added": diff.items_added,
                        "changed": diff.items_changed, "removed": diff.items_removed})  # fmt: skip
    return adoption


def report_up(adoption: Adoption, period: str, *, actor: User | None) -> PushMessage:
    """上报: the quarter's roll-up, as the next revision, into the push outbox (sent after
    the commit by tracker.federation.outbox). Only a consolidated quarter goes up."""
    if not instance.current().upstream_url:
        raise FederationError("未配置上级实例地址 TRACKER_UPSTREAM_URL，不能上报。")
    state = queries.quarter_state(adoption, period)
    if not state.consolidated:
        raise FederationError(
            f"{period} 尚未汇总完毕，以下牵头报告尚未报送：" + "、".join(state.missing[:20]),
            field="period",
        )
    body = queries.next_rollup(adoption, period)  # what the preview page shows
    revision = body["revision"]
    wire.Rollup.model_validate(body)  # the one contract, before anything goes out
    data = wire.canonical(body)
    push = PushMessage(adoption=adoption, period=period, revision=revision,
                       body=data.decode("utf-8"), digest=wire.sha256_hex(data),
                       created_by_id=actor.id if actor else None)  # fmt: skip
    db.session.add(push)
    db.session.flush()
    record_event("federation.report_up", push, actor=actor,
                 after={"document": adoption.central_number, "period": period,
                        "revision": revision, "digest": push.digest})  # fmt: skip
    return push


__all__ = ["BadSubmission", "DomainError", "DuplicateRevision", "FederationError"]
