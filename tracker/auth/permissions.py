"""Who may do what: pure ``can_*`` predicates and ``require_*`` wrappers that abort 403.

Every view and every API endpoint asks these, and list queries are filtered by
:func:`visible_department_ids`, so that there is one answer to "may this user see this".
"""

from __future__ import annotations

from flask import abort

from tracker.auth.models import User, UserRole


def sees_all_departments(user: User) -> bool:
    """Admins, coordinators and viewers without a department (leaders) see every department."""
    if user.role in (UserRole.ADMIN, UserRole.COORDINATOR):
        return True
    return user.role == UserRole.VIEWER and user.department_id is None


def visible_department_ids(user: User) -> set[int] | None:
    """The departments whose data a user may read; ``None`` means all of them."""
    if sees_all_departments(user):
        return None
    return {user.department_id} if user.department_id is not None else set()


def can_view_department(user: User, department_id: int | None) -> bool:
    """May the user read this department's data (its page, reports, figures)?"""
    if sees_all_departments(user):
        return True
    return department_id is not None and user.department_id == department_id


def can_view_obligation(
    user: User, department_id: int, lead_department_ids: set[int] | frozenset[int] = frozenset()
) -> bool:
    """May the user open one obligation: its department, due date and whether it is in?

    Its own department may; so may a liaison or viewer of a department that leads the same
    item (the lead follows its supporting departments' input). What the obligation's report
    *says* is :func:`can_read_report`'s question: the lead reads it only once submitted.
    """
    if can_view_department(user, department_id):
        return True
    return user.department_id is not None and user.department_id in lead_department_ids


def can_read_report(
    user: User,
    department_id: int,
    lead_department_ids: set[int] | frozenset[int] = frozenset(),
    *,
    submitted: bool,
) -> bool:
    """May the user read an obligation's report: its text, figures and evidence?

    Its own department and the all-seeing roles always; the item's lead department only while
    the report is submitted or accepted (``submitted``): never a supporting department's
    draft, its returned or withdrawn text. Its version history holds the drafts, so that is
    :func:`can_read_report_history`, which leaves the lead out altogether.
    """
    if can_view_department(user, department_id):
        return True
    return submitted and can_view_obligation(user, department_id, lead_department_ids)


def can_read_report_history(user: User, department_id: int) -> bool:
    """May the user read a report's versions (every draft saved): its own department and the
    all-seeing roles, never another department."""
    return can_view_department(user, department_id)


def can_view_item(user: User, department_ids: set[int] | frozenset[int]) -> bool:
    """May the user read an item's page: all-seeing users, and users of a department on it."""
    if sees_all_departments(user):
        return True
    return user.department_id is not None and user.department_id in department_ids


def can_edit_department_reports(user: User, department_id: int | None) -> bool:
    """Only a liaison of the owning department drafts, edits and submits its reports."""
    return (
        user.role == UserRole.LIAISON
        and department_id is not None
        and user.department_id == department_id
    )


def can_approve_reports(user: User, department_id: int | None) -> bool:
    """An approver (审核人) of the owning department signs its reports off (审核签发)."""
    return (
        user.role == UserRole.APPROVER
        and department_id is not None
        and user.department_id == department_id
    )


def can_review_reports(user: User) -> bool:
    """Coordinators accept, return, waive and urge."""
    return user.role == UserRole.COORDINATOR


def can_manage_catalogue(user: User) -> bool:
    """Coordinators and admins import documents and maintain the task division."""
    return user.role in (UserRole.ADMIN, UserRole.COORDINATOR)


def can_manage_departments(user: User) -> bool:
    """Only administrators create, rename, deactivate and reactivate departments (also from
    the import page)."""
    return user.role == UserRole.ADMIN


def can_view_all_contacts(user: User) -> bool:
    """Coordinators and admins read every department's contact directory."""
    return user.role in (UserRole.ADMIN, UserRole.COORDINATOR)


def can_view_contacts(user: User, department_id: int | None) -> bool:
    """A department's contact directory (its liaisons' and viewers' work phone and e-mail):
    coordinators and admins, and the department's own users; not leaders of no department."""
    if can_view_all_contacts(user):
        return True
    return department_id is not None and user.department_id == department_id


def can_manage_users(user: User) -> bool:
    """The system administrator creates, edits, deactivates and reactivates accounts and sees
    the system's plumbing (outbox); never the audit trail (三员分立)."""
    return user.role == UserRole.ADMIN


def can_manage_security(user: User) -> bool:
    """The security administrator unlocks sign-ins, resets passwords, ends other users'
    sessions and API tokens, and reads the password and session policy."""
    return user.role == UserRole.SECURITY_ADMIN


def can_view_accounts(user: User) -> bool:
    """The account list (who exists, state, lock): the system and security administrators."""
    return can_manage_users(user) or can_manage_security(user)


def can_reset_second_factor(user: User) -> bool:
    """Only the security administrator resets another user's second factor."""
    return can_manage_security(user)


def can_read_progress(user: User) -> bool:
    """Everyone but the security and audit administrators works with the obligations and
    their progress (filing, reviewing, the dashboard); those two read none of it (三员分立)."""
    return user.role not in (UserRole.SECURITY_ADMIN, UserRole.AUDITOR, UserRole.COUNTY)


def can_read_audit_trail(user: User) -> bool:
    """Only the audit administrator reads and exports the audit trail; nobody else, not even
    the system administrator."""
    return user.role == UserRole.AUDITOR


def can_draft_notice(user: User) -> bool:
    """May the user download the quarterly 通报 draft? It states every department's figures:
    those who read every department's progress (coordinators, leaders, admins)."""
    return sees_all_departments(user) and can_read_progress(user)


def can_urge(user: User) -> bool:
    """Coordinators urge (催办) a department to report."""
    return can_review_reports(user)


def can_acknowledge_urge(user: User, department_id: int | None) -> bool:
    """The urged department's liaisons acknowledge (签收) an urge."""
    return can_edit_department_reports(user, department_id)


def can_request_extension(user: User, department_id: int | None) -> bool:
    """A department's liaisons ask for a later due date for its obligations."""
    return can_edit_department_reports(user, department_id)


def can_decide_extensions(user: User) -> bool:
    """Coordinators approve or reject extension requests."""
    return can_review_reports(user)


def _require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def require_view_department(user: User, department_id: int | None) -> None:
    _require(can_view_department(user, department_id))


def require_view_obligation(
    user: User, department_id: int, lead_department_ids: set[int] | frozenset[int] = frozenset()
) -> None:
    _require(can_view_obligation(user, department_id, lead_department_ids))


def require_read_report(
    user: User,
    department_id: int,
    lead_department_ids: set[int] | frozenset[int] = frozenset(),
    *,
    submitted: bool,
) -> None:
    _require(can_read_report(user, department_id, lead_department_ids, submitted=submitted))


def require_read_report_history(user: User, department_id: int) -> None:
    _require(can_read_report_history(user, department_id))


def require_view_item(user: User, department_ids: set[int] | frozenset[int]) -> None:
    _require(can_view_item(user, department_ids))


def require_edit_department_reports(user: User, department_id: int | None) -> None:
    _require(can_edit_department_reports(user, department_id))


def require_approve_reports(user: User, department_id: int | None) -> None:
    _require(can_approve_reports(user, department_id))


def require_review_reports(user: User) -> None:
    _require(can_review_reports(user))


def require_manage_catalogue(user: User) -> None:
    _require(can_manage_catalogue(user))


def require_manage_departments(user: User) -> None:
    _require(can_manage_departments(user))


def require_view_all_contacts(user: User) -> None:
    _require(can_view_all_contacts(user))


def require_view_contacts(user: User, department_id: int | None) -> None:
    _require(can_view_contacts(user, department_id))


def require_manage_security(user: User) -> None:
    _require(can_manage_security(user))


def require_view_accounts(user: User) -> None:
    _require(can_view_accounts(user))


def require_reset_second_factor(user: User) -> None:
    _require(can_reset_second_factor(user))


def require_read_audit_trail(user: User) -> None:
    _require(can_read_audit_trail(user))


def require_manage_users(user: User) -> None:
    _require(can_manage_users(user))


def require_draft_notice(user: User) -> None:
    _require(can_draft_notice(user))


def require_urge(user: User) -> None:
    _require(can_urge(user))


def require_acknowledge_urge(user: User, department_id: int | None) -> None:
    _require(can_acknowledge_urge(user, department_id))


def require_request_extension(user: User, department_id: int | None) -> None:
    _require(can_request_extension(user, department_id))


def require_decide_extensions(user: User) -> None:
    _require(can_decide_extensions(user))


# -- delivery plans (tracker/delivery) -------------------------------------------------------


def can_propose_plan(user: User, department_id: int | None) -> bool:
    """A liaison of the department that answers for the plan (the item's lead, or on a
    joint item each joint department for its share) proposes and changes it; the caller
    passes the department only if it is one of those."""
    return can_edit_department_reports(user, department_id)


def can_decide_plans(user: User) -> bool:
    """A 民政部 coordinator approves or returns a proposed plan."""
    return can_review_reports(user)


def can_read_plan(
    user: User,
    department_id: int,
    item_department_ids: set[int] | frozenset[int],
    *,
    approved: bool,
) -> bool:
    """May the user read one version of a delivery plan?

    Coordinators and admins read every version; leaders (viewers of no department) and the
    item's other departments read approved versions only; the plan's own department reads
    its versions while they are proposed or returned too. The security and audit
    administrators read none (三员分立).
    """
    if not can_read_progress(user):
        return False
    if user.role in (UserRole.ADMIN, UserRole.COORDINATOR):
        return True
    if user.department_id is not None and user.department_id == department_id:
        return True
    return approved and can_view_item(user, item_department_ids)


def can_read_delivery(user: User, item_department_ids: set[int] | frozenset[int]) -> bool:
    """May the user read an item's delivery (its plans' list, the combined indicator values,
    the suggested light)? Whoever reads progress and may view the item; which versions of a
    plan they read is :func:`can_read_plan`'s to say."""
    return can_read_progress(user) and can_view_item(user, item_department_ids)


def require_read_delivery(user: User, item_department_ids: set[int] | frozenset[int]) -> None:
    _require(can_read_delivery(user, item_department_ids))


def require_read_plan(
    user: User,
    department_id: int,
    item_department_ids: set[int] | frozenset[int],
    *,
    approved: bool,
) -> None:
    _require(can_read_plan(user, department_id, item_department_ids, approved=approved))


def require_propose_plan(user: User, department_id: int | None) -> None:
    _require(can_propose_plan(user, department_id))


def require_decide_plans(user: User) -> None:
    _require(can_decide_plans(user))


def can_judge_delivery(user: User) -> bool:
    """A 民政部 coordinator judges an item's delivery in a quarter (the five-step scale);
    liaisons, leaders and the administrators do not."""
    return can_review_reports(user)


def require_judge_delivery(user: User) -> None:
    _require(can_judge_delivery(user))


# -- counties and the aggregate ledger (tracker/counties) ------------------------------------


def can_manage_counties(user: User) -> bool:
    """The system administrator keeps the instance's county list and the county accounts'
    scope (like departments and accounts)."""
    return user.role == UserRole.ADMIN


def can_keep_county_ledger(user: User) -> bool:
    """Coordinators keep the province's ledger: every county's exact counts, the template
    download and upload. Nobody else reads a county's exact value but the county itself."""
    return user.role == UserRole.COORDINATOR


def can_view_county_totals(user: User) -> bool:
    """The totals above county level (by prefecture, for the province; small counts
    suppressed): coordinators, admins and leaders, as for every department's progress."""
    return sees_all_departments(user)


def can_enter_county_values(user: User, county_id: int, scope_county_id: int | None) -> bool:
    """A county account enters (and reads) its own county's counts only, ``scope_county_id``
    being the county it is given; a coordinator enters any county's."""
    if can_keep_county_ledger(user):
        return True
    return (
        user.role == UserRole.COUNTY
        and scope_county_id is not None
        and (scope_county_id == county_id)
    )


def require_manage_counties(user: User) -> None:
    _require(can_manage_counties(user))


def require_keep_county_ledger(user: User) -> None:
    _require(can_keep_county_ledger(user))


def require_view_county_totals(user: User) -> None:
    _require(can_view_county_totals(user))


def require_enter_county_values(user: User, county_id: int, scope_county_id: int | None) -> None:
    _require(can_enter_county_values(user, county_id, scope_county_id))


# -- the cascade (tracker/federation) --------------------------------------------------------


def can_manage_federation(user: User) -> bool:
    """Coordinators and admins adopt documents from above, map departments, break items
    down and report up; at the centre they read the provinces matrix."""
    return user.role in (UserRole.ADMIN, UserRole.COORDINATOR)


def can_manage_members(user: User) -> bool:
    """Only the system administrator registers and revokes member instances (their tokens
    are credentials, like accounts)."""
    return user.role == UserRole.ADMIN


def can_preview_rollup(user: User) -> bool:
    """Only coordinators read a quarter's roll-up before 上报: it carries every department's
    report texts, which the system administrator does not read (三员分立)."""
    return user.role == UserRole.COORDINATOR


def require_preview_rollup(user: User) -> None:
    _require(can_preview_rollup(user))


def require_manage_federation(user: User) -> None:
    _require(can_manage_federation(user))


def require_manage_members(user: User) -> None:
    _require(can_manage_members(user))
