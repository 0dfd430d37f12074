"""What the help pages state, read from the configuration and the modules that enforce it.

Nothing here is a number of its own: due dates, the reminder ladder, the urge interval, the
lights' threshold and the report limits come from the settings and from the domains that
apply them, so that the help says what the product does with this deployment's settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app

from tracker.auth import queries as user_queries
from tracker.auth.models import User, UserRole
from tracker.exports.template import MAX_UPLOAD_BYTES as TEMPLATE_MAX_BYTES
from tracker.extensions import db
from tracker.periods import Period
from tracker.reminders.ladder import Ladder
from tracker.reminders.services import current_ladder
from tracker.reports import queries as report_queries
from tracker.reports.hints import (
    STATUS_MEANINGS,
    EvidenceRules,
    ReportHints,
    evidence_rules,
    report_hints,
    size_text,
)
from tracker.reports.services import due_dates_for

# The role pages, in the order the help lists them: role → (endpoint, title).
ROLE_PAGES: dict[UserRole, tuple[str, str]] = {
    UserRole.LIAISON: ("help.liaison", "联络员操作说明"),
    UserRole.COORDINATOR: ("help.coordinator", "督办协调员操作说明"),
    UserRole.APPROVER: ("help.approver", "审核人（部门领导）操作说明"),
    UserRole.VIEWER: ("help.viewer", "部门领导（查阅）操作说明"),
    UserRole.ADMIN: ("help.admin", "系统管理员操作说明"),
    UserRole.SECURITY_ADMIN: ("help.security_admin", "安全管理员操作说明"),
    UserRole.AUDITOR: ("help.auditor", "审计管理员操作说明"),
    UserRole.COUNTY: ("help.county", "县级填报员操作说明"),
}

AUDIENCE_LABELS = {
    "liaison": "本部门联络员",
    "coordinator": "督办协调员",
    "viewer": "本部门查阅账号（部门领导）",
    "approver": "本部门审核人",
}


def endpoint_for(role: UserRole) -> str:
    """The help page of ``role``."""
    return ROLE_PAGES[role][0]


@dataclass(frozen=True)
class LadderStep:
    """One rung of the reminder ladder as the help states it."""

    when: str  # 截止日前 7 个工作日 / 截止日当天 / 逾期 1 个工作日
    audience: str  # 本部门联络员、督办协调员


def ladder_steps(ladder: Ladder) -> list[LadderStep]:
    """The configured ladder's rungs in words."""
    steps = []
    for rung in ladder.rungs:
        if rung.offset < 0:
            when = f"截止日前 {-rung.offset} 个工作日"
        elif rung.offset == 0:
            when = "截止日当天"
        else:
            when = f"逾期 {rung.offset} 个工作日"
        audience = "、".join(AUDIENCE_LABELS[a] for a in AUDIENCE_LABELS if a in rung.audience)
        steps.append(LadderStep(when, audience))
    return steps


@dataclass(frozen=True)
class Contact:
    """Somebody to ask: a coordinator or an administrator."""

    name: str
    role: str
    phone: str
    email: str


@dataclass(frozen=True)
class HelpFacts:
    """Everything the help pages state that depends on the configuration."""

    period: Period
    due: date
    support_due: date
    due_offset_days: int
    support_lead_days: int
    support_min_days: int
    amber_days: int
    ladder: list[LadderStep]
    weekly_every: int
    remind_at: str
    digest_at: str
    urge_interval_days: int
    status_meanings: tuple[tuple[str, str], ...]
    hints: ReportHints
    evidence: EvidenceRules
    template_max: str
    login_max_failures: int
    login_lock_minutes: int
    audit_retention_days: int


def facts() -> HelpFacts:
    """The facts in force now (the current reporting period's dates included)."""
    config = current_app.config
    period = report_queries.current_period()
    due, support_due = due_dates_for(period)
    ladder = current_ladder()
    return HelpFacts(
        period=period,
        due=due,
        support_due=support_due,
        due_offset_days=config["TRACKER_DUE_OFFSET_DAYS"],
        support_lead_days=config["TRACKER_SUPPORT_LEAD_DAYS"],
        support_min_days=config["TRACKER_SUPPORT_MIN_DAYS_AFTER_QUARTER"],
        amber_days=config["TRACKER_AMBER_WORKING_DAYS"],
        ladder=ladder_steps(ladder),
        weekly_every=ladder.weekly_every,
        remind_at=config["TRACKER_REMIND_AT"],
        digest_at=config["TRACKER_DIGEST_AT"],
        urge_interval_days=config["TRACKER_URGE_MIN_INTERVAL_DAYS"],
        status_meanings=tuple((s.label, meaning) for s, meaning in STATUS_MEANINGS),
        hints=report_hints(),
        evidence=evidence_rules(),
        template_max=size_text(TEMPLATE_MAX_BYTES),
        login_max_failures=config["TRACKER_LOGIN_MAX_FAILURES"],
        login_lock_minutes=config["TRACKER_LOGIN_LOCK_MINUTES"],
        audit_retention_days=config["TRACKER_AUDIT_RETENTION_DAYS"],
    )


def sign_in_facts() -> dict[str, int]:
    """What the public page states: failures that lock a username at one address, minutes it
    stays locked, and the session's idle and absolute limits."""
    config = current_app.config
    return {
        "max_failures": config["TRACKER_LOGIN_MAX_FAILURES"],
        "lock_minutes": config["TRACKER_LOGIN_LOCK_MINUTES"],
        "idle_minutes": config["TRACKER_SESSION_IDLE_MINUTES"],
        "max_hours": config["TRACKER_SESSION_MAX_HOURS"],
    }


def contacts() -> list[Contact]:
    """The active coordinators and administrators: whom a user asks for help."""
    order = [UserRole.COORDINATOR, UserRole.ADMIN]
    rows = db.session.scalars(user_queries.active_users().where(User.role.in_(order))).all()
    rows = sorted(rows, key=lambda user: (order.index(user.role), user.display_name))
    return [
        Contact(user.display_name, user.role.label, user.phone or "", user.email or "")
        for user in rows
    ]
