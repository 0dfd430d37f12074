"""What each role has to do now, for the to-do block on its landing page.

Every item is a count and the first few entries, each with a link to where the work is done.
Reading only, a handful of counting queries per page, bounded lists: the block stays cheap
however many quarters are tracked.

- Coordinator: reports to review, extension requests pending, lead departments behind (a lead
  obligation past its due date, not submitted), urges not acknowledged.
- Liaison (and a department's viewer, read-only): overdue, due within 5 working days,
  returned, urges to acknowledge, supporting input missing for items the department leads.
- Administrator: failed mail, locked accounts, accounts never signed in, and whether the
  working-day calendar covers next year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import aliased, contains_eager, joinedload

from tracker import clock
from tracker.auth import liaisons
from tracker.auth.models import LoginThrottle, User
from tracker.catalogue.models import Department, Role, Task
from tracker.dashboard.models import Snapshot
from tracker.dashboard.queries.cache import cached_over_all_periods
from tracker.extensions import db
from tracker.followups.models import ExtensionRequest, ExtensionState, Urge
from tracker.notifications.models import OutboxMessage, OutboxStatus
from tracker.periods import period_label
from tracker.reports import queries as report_queries
from tracker.reports.models import Obligation, Report, ReportState

SHOWN = 5  # entries listed under each item; the count says how many there are
DUE_SOON_WORKING_DAYS = 5
SUBMITTED = (ReportState.SUBMITTED, ReportState.ACCEPTED)


@dataclass(frozen=True)
class Entry:
    """One thing to do: what, where, and a short note (a date, a department)."""

    text: str
    link: str
    note: str = ""


@dataclass(frozen=True)
class Item:
    """A kind of work with its count and its first entries; ``tone`` colours it."""

    key: str
    label: str
    count: int
    link: str
    tone: str = "blue"  # red / amber / blue / grey, as the dashboard's lights
    entries: list[Entry] = field(default_factory=list)
    note: str = ""


def _obligation_text(o: Obligation) -> str:
    return f"第{o.task.number}项 · {o.department.short_name} · {period_label(o.period)}"


def _link(o: Obligation, anchor: str = "") -> str:
    return url_for("reports.obligation", obligation_id=o.id) + anchor


def _first_and_count(
    query: sa.Select[Any], count: Callable[[], int] | None = None
) -> tuple[list[Any], int]:
    """The first :data:`SHOWN` rows of ``query`` and how many there are (``count``: a cheaper
    way to the same number than counting the query's joins).

    Two narrow queries rather than one ``count(*) OVER ()``: the window would make the
    database build every matching row, report texts and all, before the ``LIMIT`` (on
    PostgreSQL a quarter of a second for the coordinator's lists at portfolio scale). Both
    always run, so that a page's query count does not depend on its data.
    """
    first = list(db.session.scalars(query.limit(SHOWN)).unique())
    if count is not None:
        return first, count()
    counted = query.order_by(None).with_only_columns(
        sa.func.count(sa.distinct(_key_of(query))), maintain_column_froms=True
    )
    return first, int(db.session.scalar(counted) or 0)


def _key_of(query: sa.Select[Any]) -> sa.ColumnElement[Any]:
    """The primary key of the entity a to-do query lists."""
    entity = query.column_descriptions[0]["entity"]
    key: sa.ColumnElement[Any] = sa.inspect(entity).primary_key[0]
    return key


def _obligations() -> sa.Select[Obligation]:
    """Obligations (of every opened period: no others exist), with what their lines show."""
    return (
        sa.select(Obligation)
        .join(Obligation.task)
        .outerjoin(Obligation.report)
        .options(
            joinedload(Obligation.task).joinedload(Task.document),
            contains_eager(Obligation.report),
        )
    )


def _unsubmitted(query: sa.Select[Obligation]) -> sa.Select[Obligation]:
    return query.where(
        Obligation.waived.is_(False),
        sa.or_(Report.id.is_(None), Report.state.not_in(SUBMITTED)),
    )


def _item(
    key: str,
    label: str,
    query: sa.Select[Any],
    link: str,
    entry: Callable[[Any], Entry],
    tone: str = "blue",
    count: Callable[[], int] | None = None,
) -> Item:
    first, total = _first_and_count(query, count)
    return Item(key, label, total, link, tone, [entry(row) for row in first])


# -- coordinators -------------------------------------------------------------------------------


def _open_periods() -> list[str]:
    """The tracked quarters not yet frozen (one query): a few at most, whatever the history."""
    frozen = set(db.session.scalars(sa.select(Snapshot.period)))
    return [p.key for p in report_queries.tracked_periods() if p.key not in frozen]


def coordinator_items(today: date) -> list[Item]:
    """The coordinator's to-do: the work lists, then the departments without a liaison."""
    return [*coordinator_lists(today), unstaffed_item()]


def coordinator_lists(today: date) -> list[Item]:
    """Reports to review, extensions to decide, late leads, unacknowledged urges: they read
    only what moves the dashboard's data versions, so they can be kept between views."""
    review = report_queries.review_queue(None)
    pending = (
        sa.select(ExtensionRequest)
        .where(ExtensionRequest.state == ExtensionState.PENDING)
        .options(joinedload(ExtensionRequest.obligation))
        .order_by(ExtensionRequest.created_at)
    )
    # Quarters still open only: once a quarter is frozen (its due date and grace passed) its
    # misses stand in that quarter's dashboard, scorecard and overdue list, and listing every
    # quarter's would make the block grow with history (docs/performance.md).
    leads_behind = _unsubmitted(_obligations()).where(
        Obligation.role == Role.LEAD,
        Obligation.due_date < today,
        Obligation.period.in_(_open_periods()),  # by the period's index: a few quarters at most
    )
    unacknowledged = (
        sa.select(Urge)
        .join(Urge.obligation)
        .outerjoin(Obligation.report)
        .where(Urge.acknowledged_at.is_(None))
        .where(sa.or_(Report.id.is_(None), Report.state.not_in(SUBMITTED)))
        .options(joinedload(Urge.obligation))
        .order_by(Urge.created_at)
    )
    return [
        _item("review", "待审核报告", review, url_for("reports.review"),
              lambda o: Entry(_obligation_text(o), _link(o, "#review"),
                              f"报送于 {_local(o.report.submitted_at)}"),
              count=report_queries.review_count),
        _item("extensions", "待审批延期申请", pending, url_for("followups.extensions"),
              lambda r: Entry(_obligation_text(r.obligation), _link(r.obligation, "#extensions"),
                              f"申请延至 {r.requested_due_date.isoformat()}"), "amber"),
        _item("leads-behind", "牵头部门逾期未报", leads_behind.order_by(Obligation.due_date),
              url_for("dashboard.index"),
              lambda o: Entry(_obligation_text(o), _link(o),
                              f"截止 {o.due_date.isoformat()}"), "red"),
        _item("urges", "催办未签收", unacknowledged, url_for("dashboard.index"),
              lambda u: Entry(_obligation_text(u.obligation), _link(u.obligation, "#urges"),
                              f"催办于 {_local(u.created_at)}"), "amber"),
    ]  # fmt: skip


def unstaffed_item() -> Item:
    """Active departments with no active liaison: their reminders and urges reach nobody
    (one query; there are only as many as departments)."""
    departments = liaisons.departments_without_liaison()
    link = url_for("catalogue.departments")
    return Item(
        "unstaffed", "无在岗联络员的部门", len(departments), link, "red",
        [Entry(d.name, url_for("catalogue.department", code=d.code),
               "提醒和催办无人接收，请新建或启用联络员账号") for d in departments[:SHOWN]],
    )  # fmt: skip


# -- a department's liaisons and viewers ----------------------------------------------------------


def department_items(
    department_id: int, today: date, *, may_edit: bool = True, approver: bool = False
) -> list[Item]:
    """The to-do of a department; ``may_edit`` (its liaisons) links the consolidation to the
    report form, otherwise (its viewers and approvers) to the obligation page. Its approvers
    see the drafts waiting for their sign-off first."""
    # Quarters still open only, as the coordinators' block: a frozen quarter's misses stand in
    # its dashboard and overdue list, and every quarter's would make the block grow with history.
    own = _obligations().where(
        Obligation.department_id == department_id, Obligation.period.in_(_open_periods())
    )
    open_ = _unsubmitted(own)
    soon = report_queries.calendar().add_working_days(today, DUE_SOON_WORKING_DAYS)
    overdue = open_.where(Obligation.due_date < today).order_by(Obligation.due_date)
    due_soon = open_.where(Obligation.due_date >= today, Obligation.due_date <= soon).order_by(
        Obligation.due_date
    )
    # Returned by the coordinators, or by the department's approver, and not sent up again.
    returned = own.where(
        Report.approval_requested_at.is_(None),
        sa.or_(
            Report.state == ReportState.RETURNED,
            sa.and_(Report.state == ReportState.DRAFT, Report.signoff_return_reason.is_not(None)),
        ),
    ).order_by(Obligation.due_date)
    awaiting = own.where(
        Report.approval_requested_at.is_not(None),
        Report.state.in_([ReportState.DRAFT, ReportState.RETURNED]),
    ).order_by(Obligation.due_date)
    urges = (
        sa.select(Urge)
        .join(Urge.obligation)
        .where(Obligation.department_id == department_id, Urge.acknowledged_at.is_(None))
        .options(joinedload(Urge.obligation))
        .order_by(Urge.created_at)
    )
    mine = url_for("reports.mine")
    return [
        _item("overdue", "逾期未报", overdue, mine,
              lambda o: Entry(_obligation_text(o), _link(o), f"截止 {o.due_date.isoformat()}"),
              "red"),
        _item("due-soon", f"{DUE_SOON_WORKING_DAYS} 个工作日内到期", due_soon, mine,
              lambda o: Entry(_obligation_text(o), _link(o), f"截止 {o.due_date.isoformat()}"),
              "amber"),
        _item("awaiting-approval", "待您审核签发" if approver else "已送审待本部门审核人签发",
              awaiting, mine,
              lambda o: Entry(_obligation_text(o), _link(o, "#signoff"),
                              f"送审于 {_local(o.report.approval_requested_at)}，"
                              f"截止 {o.due_date.isoformat()}"),
              "amber" if approver else "grey"),
        _item("returned", "被退回待修改", returned, mine,
              lambda o: Entry(_obligation_text(o), _link(o, "#return-reason"),
                              (o.report.return_reason if o.report.state == ReportState.RETURNED
                               else o.report.signoff_return_reason or "")[:40])),
        _item("urges", "待签收催办", urges, mine,
              lambda u: Entry(_obligation_text(u.obligation), _link(u.obligation, "#urges"),
                              f"催办于 {_local(u.created_at)}"), "amber"),
        _missing_supporting(open_.where(Obligation.role == Role.LEAD), may_edit=may_edit),
    ]  # fmt: skip


def _missing_supporting(leads: sa.Select[Obligation], *, may_edit: bool) -> Item:
    """Items the department leads whose supporting input is not all in yet (two queries)."""
    support = aliased(Obligation)
    support_report = aliased(Report)
    missing = (
        sa.select(support.id)
        .outerjoin(support_report, support_report.obligation_id == support.id)
        .where(
            support.task_id == Obligation.task_id,
            support.period == Obligation.period,
            support.role == Role.SUPPORT,
            support.waived.is_(False),
            sa.or_(support_report.id.is_(None), support_report.state.not_in(SUBMITTED)),
        )
    )
    first, count = _first_and_count(leads.where(missing.exists()).order_by(Obligation.due_date))
    names: dict[tuple[int, str], list[str]] = {}
    if first:
        rows = db.session.execute(
            sa.select(support.task_id, support.period, Department.short_name)
            .join(Department, Department.id == support.department_id)
            .outerjoin(support_report, support_report.obligation_id == support.id)
            .where(
                # Two plain IN lists rather than a row-value IN, which SQLite cannot look up
                # by index; the pairs not listed are dropped below.
                support.task_id.in_({o.task_id for o in first}),
                support.period.in_({o.period for o in first}),
                support.role == Role.SUPPORT,
                support.waived.is_(False),
                sa.or_(support_report.id.is_(None), support_report.state.not_in(SUBMITTED)),
            )
            .order_by(Department.id)
        )
        wanted = {(o.task_id, o.period) for o in first}
        for task_id, period, name in rows:
            if (task_id, period) in wanted:
                names.setdefault((task_id, period), []).append(name)
    entries = [
        Entry(_obligation_text(o), _link(o) + "/edit" if may_edit else _link(o),
              "未报送：" + "、".join(names.get((o.task_id, o.period), [])))
        for o in first
    ]  # fmt: skip
    return Item(
        "supporting", "牵头事项配合材料未到", count, url_for("reports.mine"), "amber", entries
    )


# -- administrators -------------------------------------------------------------------------------


def admin_items(today: date) -> list[Item]:
    failed = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.status.in_([OutboxStatus.FAILED, OutboxStatus.GAVE_UP]))
        .order_by(OutboxMessage.id.desc())
    )
    locked = (
        sa.select(LoginThrottle)
        .where(LoginThrottle.scope == "pair", LoginThrottle.locked_until > clock.utcnow())
        .order_by(LoginThrottle.locked_until)
    )
    never = (
        sa.select(User)
        .where(User.active.is_(True), User.last_login_at.is_(None))
        .order_by(User.created_at)
    )
    users = url_for("auth.users")
    return [
        _item("failed-mail", "发送失败的邮件", failed, url_for("notifications.outbox"),
              lambda m: Entry(m.subject, url_for("notifications.outbox"), m.to_address), "red"),
        _item("locked", "登录锁定中的账号", locked, users,
              lambda t: Entry(t.username, users,
                              f"自 {t.address} 锁定至 {_local(t.locked_until)}"), "amber"),
        _item("never-signed-in", "从未登录的账号", never, users,
              lambda u: Entry(f"{u.display_name}（{u.username}）", users,
                              f"创建于 {_local(u.created_at)}"), "grey"),
        unstaffed_item(),
        calendar_item(today),
    ]  # fmt: skip


def calendar_item(today: date) -> Item:
    """Whether the working-day calendar knows this year's and next year's holidays."""
    calendar = report_queries.calendar()
    extra = {d.year for d in (*calendar.extra_holidays, *calendar.extra_workdays)}
    missing = [
        year
        for year in (today.year, today.year + 1)
        if not calendar.is_officially_covered(year) and year not in extra
    ]
    link = url_for("home.admin") + "#calendar"
    if not missing:
        covered = f"{today.year} 年和 {today.year + 1} 年的节假日安排均已录入。"
        return Item("calendar", "工作日历", 0, link, "grey", note=covered)
    text = "、".join(f"{year} 年" for year in missing)
    return Item(
        "calendar", "工作日历", len(missing), link, "red",
        [Entry(f"{text}节假日安排尚未录入", link,
               "截止日期和工作日将按周一至周五计算，请在国务院公布安排后录入")],
    )  # fmt: skip


def _local(moment: Any) -> str:
    return moment.astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M") if moment else ""


def for_user(user: User) -> list[Item] | None:
    """The to-do of ``user``'s role, or None for a role without one (a leader)."""
    today = clock.local_today()
    if user.is_admin:
        return admin_items(today)
    if user.is_coordinator:
        # The lists are the same for every coordinator: kept while no data they read changes
        # and the day is the same. Liaison accounts move no data version: read each time.
        lists = cached_over_all_periods("todo-coordinator", (today,),
                                        lambda: coordinator_lists(today))  # fmt: skip
        return [*lists, unstaffed_item()]
    if user.department_id is not None:
        items = department_items(
            user.department_id, today, may_edit=user.is_liaison, approver=user.is_approver
        )
        if user.is_approver:  # what waits for the approver comes first
            items.sort(key=lambda item: item.key != "awaiting-approval")
        return items
    return None
