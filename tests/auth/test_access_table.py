"""Authorization as a table over ``app.url_map``: every route is classified, then checked.

A new route that is missing from ``ACCESS`` fails ``test_every_route_is_classified``, so no
page can be added without deciding who may see it. URL values point at objects of the
Ministry of Public Security (公安部, code ``mps``); "own" users belong to it, "other" users to
the Ministry of Human Resources and Social Security, which has no part in item 11.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tracker.catalogue.models import Department, Task
from tracker.extensions import db

PUBLIC = "public"  # no login
SIGNED_IN = "signed-in"  # any active user
DEPARTMENT = "department"  # the URL's department: its users, coordinators, leaders, admins
OWNER = "owner"  # only the URL's department's liaisons (drafting and submitting)
APPROVER = "approver"  # only the URL's department's approvers (审核签发)
REVIEWER = "reviewer"  # coordinators only (accept, return, waive, urge)
COORDINATOR = "coordinator"  # coordinators and admins
LIAISON = "liaison"  # every department's liaisons, each for their own department
ADMIN = "admin"  # the system administrator (accounts, departments, documents, settings)
SECURITY = "security"  # the security administrator (locks, password resets, sessions, tokens)
ACCOUNTS = "accounts"  # the account list: the system and security administrators
AUDITOR = "auditor"  # the audit administrator: reads the audit trail, changes nothing
VIEWER = "viewer"  # department viewers and leaders (the viewer role)
# Everyone who reads the delivery record: not the security or audit administrator, whose
# duties stop at accounts and the audit trail (三员分立, least privilege).
READER = "reader"
# Everyone who reads every department's progress: coordinators, leaders, admins (the 通报).
ALL_DEPARTMENTS = "all-departments"
# A background export's page and file: the user who asked for it only (the world's job is the
# coordinator's); anyone else 403.
REQUESTER = "requester"
# A plan version not yet approved (the world's plan is proposed): the plan's own department,
# coordinators and admins; leaders and the item's other departments read approved ones only.
PENDING_PLAN = "pending-plan"
CONTACTS = "contacts"  # the URL's department's own users, coordinators and admins (no leader)
# Prometheus metrics: a bearer token of their own (TRACKER_METRICS_TOKEN), never a session.
METRICS_TOKEN = "metrics-token"
# Every county account (县级填报员): its own landing page and help.
COUNTY = "county"
# One county's counts: that county's own account, and coordinators (the province's keepers).
COUNTY_ENTRY = "county-entry"
# The JSON API (blueprint ``api``) takes a bearer token only: every session-only client gets 401
# here, and tests/api/test_access.py checks the same levels with each user's token.
TOKEN_ONLY_BLUEPRINT = "api"
# What other instances call (blueprint ``federation_api``): an instance token of a member
# registered at the centre, never a session (tests/federation/test_receive.py checks tokens).
INSTANCE_TOKEN = "instance-token"
INSTANCE_TOKEN_BLUEPRINT = "federation_api"

ACCESS = {
    "static": PUBLIC,
    "health": PUBLIC,
    "ops.ready": PUBLIC,  # 503 while not ready (the suite's database has no Alembic revision)
    "ops.metrics": METRICS_TOKEN,
    "auth.login": PUBLIC,
    "auth.second_factor_login": PUBLIC,  # only after a right password; else back to /login
    "auth.logout": SIGNED_IN,
    "auth.password": SIGNED_IN,
    "auth.my_sessions": SIGNED_IN,
    "auth.end_session": SIGNED_IN,  # one's own open sessions only; another's is 404
    "auth.end_other_sessions": SIGNED_IN,
    "auth.my_second_factor": SIGNED_IN,  # one's own second factor only
    "auth.regenerate_recovery_codes": SIGNED_IN,
    "auth.remove_second_factor": SIGNED_IN,
    "tokens.index": SIGNED_IN,
    "tokens.revoke": SIGNED_IN,  # one's own tokens only; another's is 404
    "auth.users": ACCOUNTS,  # GET; creating an account (POST) is the system administrator's
    "auth.edit_user": ADMIN,
    "auth.contacts": COORDINATOR,
    "auth.department_contacts": CONTACTS,
    "auth.reset_user_password": SECURITY,
    "auth.deactivate_user": ADMIN,
    "auth.activate_user": ADMIN,
    "auth.unlock_user": SECURITY,
    "auth.end_user_access": SECURITY,
    "auth.reset_user_second_factor": SECURITY,
    "auth.security_policy": SECURITY,
    "api.openapi": PUBLIC,
    "api.me": SIGNED_IN,
    "api.departments": SIGNED_IN,  # A and B liaisons only for those who see the contacts
    "api.set_department_liaisons": ADMIN,
    "api.tasks": SIGNED_IN,
    "api.periods": SIGNED_IN,
    "api.obligations": READER,  # filtered to the caller's departments; ?department= checked
    "api.create_report": OWNER,
    "api.report": DEPARTMENT,
    "api.update_report": OWNER,
    "api.submit_report": OWNER,
    "api.accept_report": REVIEWER,
    "api.return_report": REVIEWER,
    "api.reopen_report": REVIEWER,
    "api.withdraw_report": OWNER,
    "api.request_approval": OWNER,
    "api.cancel_approval": OWNER,
    "api.approve_report": APPROVER,
    "api.return_to_liaison": APPROVER,
    "api.dashboard": READER,  # scoped to the caller's department as on the dashboard page
    "api.notifications": SIGNED_IN,  # one's own only
    "api.export_quarterly": READER,  # holds only the departments the caller may see
    "api.task_plans": DEPARTMENT,  # unapproved versions: the plan's department (and coordinators)
    "api.propose_plan": OWNER,  # the liaisons of the lead (or a joint) department only
    "api.approve_plan": REVIEWER,
    "api.return_plan": REVIEWER,
    "api.task_delivery": DEPARTMENT,
    "api.judge_delivery": REVIEWER,  # 民政部 coordinators judge an item's delivery
    "api.indicator_trajectory": PENDING_PLAN,  # as the trajectory page: as reading its plan
    "api.export_job": REQUESTER,  # a background export: the user who asked only
    "api.export_job_download": REQUESTER,
    "federation.index": COORDINATOR,
    "federation.adopt": COORDINATOR,
    "federation.adoption": COORDINATOR,
    "federation.map_departments": COORDINATOR,
    "federation.accept_update": COORDINATOR,
    "federation.report_up": COORDINATOR,
    "federation.rollup_preview": REVIEWER,  # it carries every department's texts
    "federation.break_down": COORDINATOR,
    "federation.members": ADMIN,  # the member instances' tokens are credentials
    "federation.revoke_member": ADMIN,
    "federation.provinces": COORDINATOR,
    "federation.rollup": COORDINATOR,
    "federation_api.document": INSTANCE_TOKEN,
    "federation_api.rollups": INSTANCE_TOKEN,
    "catalogue.home": SIGNED_IN,
    "catalogue.tasks": SIGNED_IN,
    "catalogue.task": SIGNED_IN,
    "catalogue.departments": SIGNED_IN,
    "catalogue.department": DEPARTMENT,
    "catalogue.new_department": ADMIN,  # only administrators change departments
    "catalogue.edit_department": ADMIN,
    "catalogue.department_liaisons": ADMIN,
    "catalogue.deactivate_department": ADMIN,
    "catalogue.activate_department": ADMIN,
    "imports.new": COORDINATOR,
    "imports.confirm": COORDINATOR,
    "imports.create_department_from_import": ADMIN,  # a coordinator sees the refusal only
    "reports.mine": SIGNED_IN,
    "reports.review": REVIEWER,
    "reports.obligation": DEPARTMENT,
    "reports.edit": OWNER,
    "reports.submit": OWNER,
    "reports.request_approval": OWNER,
    "reports.cancel_approval": OWNER,
    "reports.approve": APPROVER,
    "reports.return_to_liaison": APPROVER,
    "reports.upload": OWNER,
    "reports.accept": REVIEWER,
    "reports.return_": REVIEWER,
    "reports.reopen": REVIEWER,
    "reports.withdraw": OWNER,
    "reports.accept_selected": REVIEWER,
    "reports.waive": REVIEWER,
    "reports.version": DEPARTMENT,
    "reports.download": DEPARTMENT,
    "reports.delete_evidence": OWNER,
    "reports.item": DEPARTMENT,
    "delivery.index": READER,  # unapproved plans: one's own department's (coordinators: all)
    "delivery.item": DEPARTMENT,  # the item's departments, coordinators, leaders, admins
    "delivery.propose": OWNER,  # the liaisons of the lead (or a joint) department only
    "delivery.approve": REVIEWER,
    "delivery.return_": REVIEWER,
    "dashboard.index": SIGNED_IN,  # liaisons and department viewers: their department only
    "dashboard.scorecard": SIGNED_IN,  # their department's row only
    "dashboard.trends": SIGNED_IN,  # their department's line only
    "dashboard.department": DEPARTMENT,
    "dashboard.item": DEPARTMENT,  # the item's departments, coordinators, leaders, admins
    "dashboard.judge": REVIEWER,  # 民政部 coordinators judge an item's delivery
    "dashboard.indicator": PENDING_PLAN,  # an indicator's trajectory: as reading its plan
    "search.index": SIGNED_IN,  # every user; results scoped to what the user may read
    "notifications.notifications": SIGNED_IN,
    "notifications.mark_read": SIGNED_IN,  # one's own notifications only; another's is 404
    "notifications.mark_all_read": SIGNED_IN,
    "notifications.preferences": SIGNED_IN,  # one's own preferences only
    "notifications.outbox": ADMIN,
    "notifications.retry_message": ADMIN,
    "followups.urge": REVIEWER,
    "followups.acknowledge": OWNER,
    "followups.request_extension": OWNER,
    "followups.extensions": REVIEWER,
    "followups.approve_extension": REVIEWER,
    "followups.reject_extension": REVIEWER,
    "followups.remind_supporting": OWNER,
    "followups.urge_selected": REVIEWER,
    "home.admin": ADMIN,  # the lead's liaisons remind its supporting departments
    "exports.quarterly": SIGNED_IN,  # holds only the departments the user may see
    "exports.department_sheet": DEPARTMENT,  # drafts only on the department's own copy
    "exports.department_sheet_docx": DEPARTMENT,
    "exports.template": LIAISON,
    "exports.notice": ALL_DEPARTMENTS,  # the 通报 draft states every department's figures
    "exports.upload": LIAISON,
    "exports.jobs": SIGNED_IN,  # one's own background exports only
    "exports.job": REQUESTER,
    "exports.job_download": REQUESTER,
    "help.index": SIGNED_IN,  # redirects to the help of the user's own role
    "help.liaison": LIAISON,  # each role reads its own role's page
    "help.coordinator": REVIEWER,
    "help.viewer": VIEWER,
    "help.approver": APPROVER,
    "help.admin": ADMIN,
    "help.security_admin": SECURITY,
    "help.auditor": AUDITOR,
    "audit.index": AUDITOR,
    "audit_export.workbook": AUDITOR,
    "help.sign_in": PUBLIC,  # sign-in help only, nothing internal
    "help.county": COUNTY,
    "counties.index": ADMIN,  # the county list and the county accounts' scope
    "counties.import_counties": ADMIN,
    "counties.assign": ADMIN,
    "counties.mine": COUNTY,  # redirects to the account's own county
    "counties.values": COUNTY_ENTRY,  # another county's account: 403
    "counties.ledger": REVIEWER,  # every county's exact counts: the province's keepers only
    "counties.template": REVIEWER,
    "counties.upload": REVIEWER,
    "counties.totals": ALL_DEPARTMENTS,  # above county level: small counts suppressed
    "counties.totals_export": ALL_DEPARTMENTS,
}

ENTITLED = {
    DEPARTMENT: {"own_liaison", "own_approver", "own_viewer", "coordinator", "leader", "admin"},
    OWNER: {"own_liaison"},
    APPROVER: {"own_approver"},  # of the URL's department (help.approver: every approver)
    REVIEWER: {"coordinator"},
    COORDINATOR: {"coordinator", "admin"},
    LIAISON: {"own_liaison", "other_liaison"},
    ADMIN: {"admin"},
    SECURITY: {"security_admin"},
    ACCOUNTS: {"admin", "security_admin"},
    AUDITOR: {"auditor"},
    VIEWER: {"own_viewer", "other_viewer", "leader"},
    READER: {
        "own_liaison",
        "own_approver",
        "own_viewer",
        "other_liaison",
        "other_viewer",
        "coordinator",
        "leader",
        "admin",
    },
    CONTACTS: {"own_liaison", "own_approver", "own_viewer", "coordinator", "admin"},
    PENDING_PLAN: {"own_liaison", "own_approver", "own_viewer", "coordinator", "admin"},
    ALL_DEPARTMENTS: {"coordinator", "leader", "admin"},
    REQUESTER: {"coordinator"},
    COUNTY: {"own_county", "other_county"},
    COUNTY_ENTRY: {"own_county", "coordinator"},
}
USERS = ["own_liaison", "own_approver", "own_viewer", "other_liaison", "other_viewer",
         "coordinator", "leader", "admin", "security_admin", "auditor", "own_county",
         "other_county"]  # fmt: skip
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def test_every_route_is_classified(app):
    missing = sorted({r.endpoint for r in _rules(app)} - set(ACCESS))
    assert missing == [], f"classify these endpoints in ACCESS: {missing}"


@pytest.fixture
def world(seeded, make_user, app, monkeypatch):
    """Users of two departments, and an mps report (with evidence) on item 11.

    Metrics are switched on (a token is configured), so that they answer 401, not 404.
    """
    monkeypatch.setitem(app.config, "TRACKER_METRICS_TOKEN", "world-metrics-token")
    from tracker.api.services import create_token
    from tracker.reports import queries, services
    from tracker.reports.models import Obligation
    from tracker.reports.services import ReportInput

    users = {
        "own_liaison": make_user("liaison", "mps"),
        "own_approver": make_user("approver", "mps"),
        "own_viewer": make_user("viewer", "mps"),
        "other_liaison": make_user("liaison", "mohrss"),
        "other_viewer": make_user("viewer", "mohrss"),
        "coordinator": make_user("coordinator", "mca"),
        "leader": make_user("viewer"),
        "admin": make_user("admin"),
        "security_admin": make_user("security_admin"),
        "auditor": make_user("auditor"),
        "own_county": make_user("county"),
        "other_county": make_user("county"),
    }
    mps = db.session.scalar(sa.select(Department).where(Department.code == "mps"))
    task = db.session.scalar(sa.select(Task).where(Task.number == 11))
    period = queries.current_period()
    services.open_period(period)
    obligation = db.session.scalar(
        sa.select(Obligation).where(
            Obligation.task_id == task.id, Obligation.department_id == mps.id
        )
    )
    supporting = db.session.scalar(
        sa.select(Obligation)
        .join(Department)
        .where(Obligation.task_id == task.id, Department.code == "moj")
    )
    report = services.save_draft(
        obligation, ReportInput(progress="进展"), actor=users["own_liaison"], expected_version=None
    )
    evidence = services.add_evidence(report, "材料.pdf", PDF, actor=users["own_liaison"])
    followup_values, followup_missing = _followup_objects(obligation, users)
    plan = _proposed_plan(task, mps, users["own_liaison"])
    token, _ = create_token(users["own_liaison"], name="world", actor=users["own_liaison"])
    elsewhere = _open_session_row(users["own_liaison"])
    job = _written_export(users["coordinator"], period)
    county = _counties(users)
    cascade = _cascade_objects(task)
    db.session.commit()
    return {
        "values": {**followup_values,
                   "task_id": task.id, "code": mps.code, "obligation_id": obligation.id,
                   "number": 1, "evidence_id": evidence.id, "period": period.key,
                   "report_id": report.id, "token_id": token.id,
                   "user_id": users["other_viewer"].id, "supporting_id": supporting.id,
                   "session_id": elsewhere.id, "job_id": job.id, "plan_id": plan.id,
                   "county_id": county.id, "department_id": mps.id,
                   "key": plan.indicators[0].key, **cascade},
        "missing": {**followup_missing,
                    "task_id": 999_999, "code": "no-such-dept", "obligation_id": 999_999,
                    "number": 99, "evidence_id": 999_999, "period": "1999Q1",
                    "report_id": 999_999, "token_id": 999_999, "user_id": 999_999,
                    "supporting_id": 999_999, "session_id": 999_999, "job_id": 999_999,
                    "plan_id": 999_999, "county_id": 999_999, "department_id": 999_999,
                    "key": "no-such-key", **dict.fromkeys(cascade, 999_999)},
        **users,
    }  # fmt: skip


def _counties(users):
    """Two counties, each with its county account; the URL's county is the first one's."""
    from tracker.counties.queries import counties_by_code
    from tracker.counties.services import assign_county, import_counties
    from tracker.counties.sheets import CountyRow

    rows = [CountyRow("130102", "长安区", "石家庄市"), CountyRow("130202", "路南区", None)]
    import_counties(rows, actor=users["admin"])
    counties = counties_by_code()
    assign_county(users["own_county"], counties["130102"], actor=users["admin"])
    assign_county(users["other_county"], counties["130202"], actor=users["admin"])
    return counties["130102"]


def _cascade_objects(task) -> dict[str, int]:
    """A member instance with a roll-up, and an adoption (of the seed document, as if it had
    come from above) whose item 11 may be broken down."""
    from tracker.federation import queries, services
    from tracker.federation.models import AdoptedItem, Adoption, ReceivedRollup

    member, _ = services.add_member("130000", "河北省", "provincial", actor=None)
    export = queries.export_document(task.document)
    adoption = Adoption(document=task.document, source_code="000000", source_name="中央",
                        central_number=task.document.number, revision=export["revision"],
                        content=export)  # fmt: skip
    item = AdoptedItem(adoption=adoption, task=task, central_item_number=11, revision="r")
    rollup = ReceivedRollup(member=member, document_number=task.document.number,
                            period="2026Q3", revision=1, digest="0" * 64, receipt="HB",
                            body={"items": []})  # fmt: skip
    db.session.add_all([adoption, item, rollup])
    db.session.flush()
    return {"adoption_id": adoption.id, "item_id": item.id, "member_id": member.id,
            "rollup_id": rollup.id}  # fmt: skip


def _written_export(user, period):
    """A background export of ``user``, written and kept (its page offers the download)."""
    from tracker.exports import background
    from tracker.exports.quarterly import QuarterlyRequest

    request = QuarterlyRequest(period, prepared_by_id=user.id)
    job = background.queue_quarterly(
        request, user=user, download_name="季度报表.xlsx", description="季度报表", total=1
    )
    job.state, job.file_name = background.ExportState.DONE, "world.xlsx"
    folder = background.export_folder()
    folder.mkdir(parents=True, exist_ok=True)  # as the scheduler does when it writes one
    (folder / "world.xlsx").write_bytes(b"PK\x03\x04")
    return job


def _proposed_plan(task, department, liaison):
    """A delivery plan of the lead (mps) on item 11, waiting for a coordinator."""
    import datetime as dt

    from tracker.delivery.models import Combine, Direction
    from tracker.delivery.services import IndicatorInput, MilestoneInput, PlanInput, propose_plan

    data = PlanInput(
        milestones=[MilestoneInput("完成专项行动部署", "2026Q4", department.id)],
        indicators=[
            IndicatorInput("专项行动覆盖县", "个", Direction.HIGHER, 0, dt.date(2019, 5, 1), 100,
                           dt.date(2025, 12, 31), Combine.SUM, [department.id])
        ],
    )  # fmt: skip
    return propose_plan(task, department, data, actor=liaison)


def _open_session_row(user):
    """A session of ``user`` signed in from another browser (for the sessions page)."""
    from tracker import clock
    from tracker.auth.models import UserSession

    now = clock.utcnow()
    row = UserSession(token_hash="0" * 64, user=user, created_at=now, last_seen_at=now,
                      client_address="192.0.2.7", user_agent="another browser")  # fmt: skip
    db.session.add(row)
    db.session.flush()
    return row


def _followup_objects(obligation, users) -> tuple[dict, dict]:
    """An urge, a pending extension request, a failed e-mail and a notification (reminders)."""
    from tracker import clock
    from tracker.followups import services as reminders
    from tracker.notifications.models import Notification, OutboxMessage, OutboxStatus
    from tracker.reports.queries import calendar

    urge = reminders.urge_obligation(obligation, actor=users["coordinator"], message="请尽快报送")
    later = calendar().add_working_days(max(obligation.due_date, clock.local_today()), 5)
    request = reminders.request_extension(
        obligation, actor=users["own_liaison"], requested_due_date=later, reason="需汇总地方数据"
    )
    message = OutboxMessage(
        to_address="liaison@example.org", subject="催办", body="请尽快报送",
        status=OutboxStatus.FAILED, last_error="550 5.1.1 no such user",
    )  # fmt: skip
    db.session.add(message)
    db.session.flush()
    note = db.session.scalar(
        sa.select(Notification).where(Notification.user_id == users["own_liaison"].id)
    )
    values = {"urge_id": urge.id, "request_id": request.id, "message_id": message.id,
              "notification_id": note.id}  # fmt: skip
    return values, dict.fromkeys(values, 999_999)


def _url(app, rule, values):
    unknown = set(rule.arguments) - set(values)
    assert not unknown, f"{rule.endpoint}: add URL values for {unknown} to the world fixture"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})


def _method(rule) -> str:
    return next(m for m in ("GET", "POST", "PATCH", "PUT", "DELETE") if m in rule.methods)


def _token_only(rule) -> bool:
    """An API endpoint that needs a token: a session is never enough (401)."""
    blueprint = rule.endpoint.partition(".")[0]
    return (
        blueprint in (TOKEN_ONLY_BLUEPRINT, INSTANCE_TOKEN_BLUEPRINT)
        and ACCESS[rule.endpoint] != PUBLIC
    )


def _signed_in(app, user):
    c = app.test_client()
    response = c.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return c


def test_anonymous_is_sent_to_login_everywhere(app, client, world):
    for rule in _rules(app):
        response = client.open(_url(app, rule, world["values"]), method=_method(rule))
        if ACCESS[rule.endpoint] == PUBLIC:
            allowed = (200, 302, 503) if rule.endpoint == "ops.ready" else (200, 302)
            assert response.status_code in allowed, rule.endpoint
        elif ACCESS[rule.endpoint] == METRICS_TOKEN:
            assert response.status_code == 401, rule.endpoint
        elif _token_only(rule):
            assert response.status_code == 401, rule.endpoint
            assert response.get_json()["error"] == "unauthorized", rule.endpoint
        else:
            assert response.status_code == 302, rule.endpoint
            assert response.headers["Location"].startswith("/login"), rule.endpoint


@pytest.mark.parametrize("who", USERS)
def test_each_user_gets_exactly_what_the_table_says(app, world, who):
    c = _signed_in(app, world[who])
    for rule in _rules(app):
        level = ACCESS[rule.endpoint]
        if _token_only(rule):
            status = c.open(_url(app, rule, world["values"]), method=_method(rule)).status_code
            assert status == 401, f"{who} {rule.endpoint}: the session opened the API ({status})"
            continue
        if level == METRICS_TOKEN:
            status = c.open(_url(app, rule, world["values"]), method=_method(rule)).status_code
            assert status == 401, f"{who} {rule.endpoint}: the session opened metrics ({status})"
            continue
        if level in (PUBLIC, SIGNED_IN) or rule.endpoint == "auth.logout":
            continue
        url = _url(app, rule, world["values"])
        status = c.open(url, method=_method(rule)).status_code
        if who not in ENTITLED[level]:
            assert status == 403, f"{who} {rule.endpoint} → {status}"
        elif _method(rule) == "GET":
            assert status in (200, 302), f"{who} {rule.endpoint} → {status}"


def test_signed_in_pages_open_for_everyone(app, world):
    for who in USERS:
        c = _signed_in(app, world[who])
        for rule in _rules(app):
            if _token_only(rule):
                continue
            if ACCESS[rule.endpoint] == SIGNED_IN and _method(rule) == "GET":
                status = c.get(_url(app, rule, world["values"])).status_code
                assert status in (200, 302), f"{who} {rule.endpoint} → {status}"


def test_missing_objects_are_404(app, world):
    for who in ("coordinator", "own_liaison"):
        c = _signed_in(app, world[who])
        for rule in _rules(app):
            if not rule.arguments or ACCESS[rule.endpoint] == PUBLIC or _token_only(rule):
                continue
            if who not in ENTITLED.get(ACCESS[rule.endpoint], {who}):
                continue
            status = c.open(_url(app, rule, world["missing"]), method=_method(rule)).status_code
            assert status == 404, f"{who} {rule.endpoint} → {status}"


def test_every_post_route_needs_a_csrf_token(app, world):
    for who in ("admin", "coordinator", "own_liaison"):
        c = _signed_in(app, world[who])
        for rule in _rules(app):
            if "POST" not in rule.methods or _token_only(rule):
                continue  # the API is exempt from CSRF: it never reads the session cookie
            response = c.post(_url(app, rule, world["values"]), data={}, csrf=False)
            assert response.status_code == 400, f"{who} {rule.endpoint}"
