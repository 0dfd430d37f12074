"""The cascade's pages: at the centre the member instances and the provinces matrix; at a
province the adopted documents, the department mapping, 分解, the diff of a newer export and
上报. Thin views: load or 404 → authorize → validate → one service call → redirect/render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker import instance
from tracker.auth.permissions import (
    can_manage_federation,
    can_manage_members,
    can_preview_rollup,
    require_manage_federation,
    require_manage_members,
    require_preview_rollup,
    sees_all_departments,
)
from tracker.catalogue import queries as catalogue_queries
from tracker.catalogue.models import PolicyDocument
from tracker.dashboard.sections import add_dashboard_section, add_scorecard_section
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.federation import (
    api,  # noqa: F401 - the instance-to-instance endpoints attach to api_bp
    bp,
    outbox,
    queries,
    services,
    sheet,
    timeliness,
)
from tracker.federation.forms import (
    MAX_EXPORT_BYTES,
    AdoptForm,
    BreakDownForm,
    MemberForm,
    ReportUpForm,
)
from tracker.federation.models import Adoption, MemberInstance
from tracker.forms import EmptyForm
from tracker.navigation import add_nav
from tracker.periods import Period
from tracker.reports.queries import current_period
from tracker.web import flash_form_errors, on_error_redirect, on_error_render

add_nav("federation.index", "上下级联动", can_manage_federation)


def _arrivals(period: Period, document_id: int | None) -> list[timeliness.ProvinceArrival]:
    """The members' roll-ups of the quarter, for the dashboard's pages: at a central instance
    with members, for users who see every department (a department's own staff see their own
    row of the scorecard only, and a province is not theirs); none otherwise."""
    if not instance.current().central or not sees_all_departments(current_user):
        return []
    if not db.session.scalar(sa.select(sa.exists().where(MemberInstance.id.is_not(None)))):
        return []  # one read at a centre without members
    if document_id is not None:
        found = db.session.get(PolicyDocument, document_id)
        documents = [found] if found is not None else []
    else:
        documents = catalogue_queries.documents()
    return timeliness.arrivals([d.number for d in documents], period)


def _by_document(
    rows: list[timeliness.ProvinceArrival],
) -> dict[str, list[timeliness.ProvinceArrival]]:
    grouped: dict[str, list[timeliness.ProvinceArrival]] = {}
    for row in rows:
        grouped.setdefault(row.document_number, []).append(row)
    return grouped


def _scorecard_provinces(period: Period, document_id: int | None) -> dict[str, Any] | None:
    """The scorecard's provinces section (see :func:`_arrivals` for who sees it). Links to the
    roll-ups for those who may read them."""
    rows = _arrivals(period, document_id)
    if not rows:
        return None
    key = request.args.get("psort", "rank")
    key = key if key in timeliness.SORTS else "rank"
    descending = request.args.get("pdesc") == "y"
    rows = timeliness.sort_arrivals(rows, key, descending)
    args = {k: v for k, v in request.args.to_dict().items() if k not in ("psort", "pdesc")}
    return {
        "documents": [
            {"number": number, "rows": shown, "summary": timeliness.summary(shown)}
            for number, shown in _by_document(rows).items()
        ],
        "due": rows[0].due_date, "sort": key, "desc": descending, "args": args,
        "labels": timeliness.SORT_LABELS, "links": can_manage_federation(current_user),
    }  # fmt: skip


# The dashboard's card names at most this many provinces that are late or have not reported.
BEHIND_SHOWN = 8


def _dashboard_provinces(period: Period, document_id: int | None) -> dict[str, Any] | None:
    """The dashboard's provinces card: per document how many members reported on time, late
    or not at all, and the first of those behind (the scorecard ranks them all)."""
    rows = _arrivals(period, document_id)
    if not rows:
        return None
    documents = []
    for number, shown in _by_document(rows).items():
        behind = [r for r in shown if r.arrival in (timeliness.Arrival.LATE,
                                                     timeliness.Arrival.MISSING)]  # fmt: skip
        behind.sort(key=lambda r: (r.arrival != timeliness.Arrival.MISSING, -(r.days_late or 0)))
        documents.append({
            "number": number, "summary": timeliness.summary(shown), "count": len(shown),
            "behind": behind[:BEHIND_SHOWN], "more": max(0, len(behind) - BEHIND_SHOWN),
        })  # fmt: skip
    return {"documents": documents, "due": rows[0].due_date,
            "links": can_manage_federation(current_user)}  # fmt: skip


add_scorecard_section("provinces", "federation/_scorecard_provinces.html", _scorecard_provinces)
add_dashboard_section("provinces", "federation/_dashboard_provinces.html", _dashboard_provinces)
sheet.register()


@bp.route("")
def index() -> ResponseReturnValue:
    """The centre: members and the matrix; a province: its adopted documents, and adopting."""
    require_manage_federation(current_user)
    return _index_page(AdoptForm(formdata=None))


def _index_page(form: AdoptForm, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "federation/index.html", this=instance.current(), form=form,
        adoptions=queries.adoptions(), members=queries.members(),
        documents=catalogue_queries.documents(), period=current_period().key,
        may_manage_members=can_manage_members(current_user),
    ), status  # fmt: skip


@bp.route("/adopt", methods=["POST"])
def adopt() -> ResponseReturnValue:
    """Adopt a document: an uploaded export, or pulled from the level above."""
    require_manage_federation(current_user)
    form = AdoptForm()
    if not form.validate_on_submit():
        return _index_page(form, 422)
    on_error_render(lambda error: _adopt_refused(form, error))
    if form.file.data and form.file.data.filename:
        data = form.file.data.read(MAX_EXPORT_BYTES + 1)
        if len(data) > MAX_EXPORT_BYTES:
            raise services.BadSubmission("导出文件过大。", field="file")
    else:
        try:
            data = outbox.pull_export(form.number.data or "")
        except outbox.Temporary as exc:
            raise services.BadSubmission(str(exc), field="number") from None
    adoption = services.adopt(services.read_export(data), actor=current_user)
    flash(f"已采纳 {adoption.central_number}（版本 {adoption.revision[:8]}）。", "success")
    return redirect(url_for("federation.adoption", adoption_id=adoption.id))


def _adopt_refused(form: AdoptForm, error: DomainError) -> ResponseReturnValue:
    field = form.number if error.field == "number" else form.file
    field.errors = [error.message]
    return _index_page(form, 422)


def _load_adoption(adoption_id: int) -> Adoption:
    adoption = queries.adoption(adoption_id) or abort(404)
    require_manage_federation(current_user)
    return adoption


@bp.route("/adoptions/<int:adoption_id>")
def adoption(adoption_id: int) -> ResponseReturnValue:
    """An adopted document: its items and links, the mapping, the diff, the roll-ups."""
    found = _load_adoption(adoption_id)
    return _adoption_page(found, ReportUpForm(formdata=None, period=current_period().key))


def _adoption_page(
    found: Adoption, report_form: ReportUpForm, status: int = 200
) -> ResponseReturnValue:
    diff = (
        queries.export_diff(found.content, found.pending_content)
        if found.pending_content is not None
        else None
    )
    return render_template(
        "federation/adoption.html", adoption=found, form=EmptyForm(), report_form=report_form,
        departments=catalogue_queries.departments(), mapped=queries.mapped_departments(),
        diff=diff, pushes=queries.pushes(found), may_preview=can_preview_rollup(current_user),
    ), status  # fmt: skip


@bp.route("/adoptions/<int:adoption_id>/preview")
def rollup_preview(adoption_id: int) -> ResponseReturnValue:
    """上报预览: what 上报 of a quarter would send now, built by the function 上报 calls."""
    found = queries.adoption(adoption_id) or abort(404)
    require_preview_rollup(current_user)
    form = ReportUpForm(formdata=request.args or None, meta={"csrf": False},
                        period=current_period().key)  # fmt: skip
    if request.args and not form.validate():
        return _preview_page(found, form, None, 422)
    return _preview_page(found, form, queries.rollup_preview(found, form.period.data or ""))


def _preview_page(
    found: Adoption, form: ReportUpForm, preview: queries.RollupPreview | None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "federation/preview.html", adoption=found, form=form, preview=preview,
        confirm=EmptyForm(formdata=None), words=queries.MILESTONE_WORDS,
        upstream=bool(instance.current().upstream_url),
    ), status  # fmt: skip


@bp.route("/adoptions/<int:adoption_id>/mapping", methods=["POST"])
def map_departments(adoption_id: int) -> ResponseReturnValue:
    """Map each central department to a local one (creates the assignments and plans)."""
    found = _load_adoption(adoption_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("federation.adoption", adoption_id=found.id))
    by_id = {d.id: d for d in catalogue_queries.departments()}
    mapping = {}
    for central in queries.central_departments(found):
        chosen = request.form.get(f"map-{central['code']}", "")
        mapping[central["code"]] = by_id.get(int(chosen)) if chosen.isdigit() else None
    on_error_redirect(url_for("federation.adoption", adoption_id=found.id))
    services.map_departments(found, mapping, actor=current_user)
    flash("部门对应关系已保存，相应的责任分工和落实计划已生成。", "success")
    return redirect(url_for("federation.adoption", adoption_id=found.id))


@bp.route("/adoptions/<int:adoption_id>/update", methods=["POST"])
def accept_update(adoption_id: int) -> ResponseReturnValue:
    """Accept the newer export from above shown as a diff on the adoption page."""
    found = _load_adoption(adoption_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("federation.adoption", adoption_id=found.id))
    on_error_redirect(url_for("federation.adoption", adoption_id=found.id))
    services.accept_update(found, actor=current_user)
    flash("已接受上级的更新。", "success")
    return redirect(url_for("federation.adoption", adoption_id=found.id))


@bp.route("/adoptions/<int:adoption_id>/report", methods=["POST"])
def report_up(adoption_id: int) -> ResponseReturnValue:
    """上报: the quarter's roll-up into the push outbox (sent by the scheduler)."""
    found = _load_adoption(adoption_id)
    form = ReportUpForm()
    if not form.validate_on_submit():
        return _adoption_page(found, form, 422)
    on_error_render(lambda error: _report_refused(found, form, error))
    push = services.report_up(found, form.period.data or "", actor=current_user)
    label = Period.parse(push.period).label
    flash(f"{label}第 {push.revision} 版已进入上报队列，送达后在下面的上报记录中显示回执。",
          "success")  # fmt: skip
    return redirect(url_for("federation.adoption", adoption_id=found.id))


def _report_refused(found: Adoption, form: ReportUpForm, error: DomainError) -> ResponseReturnValue:
    form.period.errors = [error.message]
    return _adoption_page(found, form, 422)


@bp.route("/items/<int:item_id>/break-down", methods=["GET", "POST"])
def break_down(item_id: int) -> ResponseReturnValue:
    """分解 an adopted item into a provincial sub-item."""
    link = queries.adopted_item(item_id) or abort(404)
    require_manage_federation(current_user)
    if link.parent_task_id is not None:
        abort(404)
    form = BreakDownForm()
    choices = [(d.id, d.name) for d in catalogue_queries.assignable_departments()]
    form.lead.choices = choices
    form.supporting.choices = choices

    def page(status: int = 200) -> ResponseReturnValue:
        return render_template("federation/break_down.html", link=link, form=form), status

    if not form.is_submitted():
        return page()
    if not form.validate_on_submit():
        return page(422)
    by_id = {d.id: d for d in catalogue_queries.departments()}
    on_error_render(lambda error: _field_refused(form, error, page))
    services.break_down(
        link, form.text.data or "", by_id[form.lead.data],
        [by_id[i] for i in form.supporting.data or []], actor=current_user,
    )  # fmt: skip
    flash(f"已分解第{link.central_item_number}项。", "success")
    return redirect(url_for("federation.adoption", adoption_id=link.adoption_id))


def _field_refused(
    form: Any, error: DomainError, page: Callable[[int], ResponseReturnValue]
) -> ResponseReturnValue:
    field = getattr(form, error.field or "", None)
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors = [error.message]
    return page(422)


@bp.route("/members", methods=["GET", "POST"])
def members() -> ResponseReturnValue:
    """The centre's member instances: register one (its token shown once), or revoke."""
    require_manage_members(current_user)
    form = MemberForm()

    def page(status: int = 200, token: str | None = None) -> tuple[str, int]:
        return render_template(
            "federation/members.html", form=form, members=queries.members(), token=token,
            revoke=EmptyForm(formdata=None), levels=instance.LEVELS,
        ), status  # fmt: skip

    if not form.is_submitted():
        return page()
    if not form.validate_on_submit():
        return page(422)
    on_error_render(lambda error: _field_refused(form, error, page))
    member, token = services.add_member(
        form.code.data or "", form.name.data or "", form.level.data or "", actor=current_user
    )
    flash(f"已登记 {member.name}；下面的实例令牌只显示这一次。", "success")
    form = MemberForm(formdata=None)  # registered: the next one starts from an empty form
    rendered, status = page(200, token)
    return rendered, status, {"Cache-Control": "no-store"}  # a new token must not be cached


@bp.route("/members/<int:member_id>/revoke", methods=["POST"])
def revoke_member(member_id: int) -> ResponseReturnValue:
    member = db.session.get(MemberInstance, member_id) or abort(404)
    require_manage_members(current_user)
    form = EmptyForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("federation.members"))
    on_error_redirect(url_for("federation.members"))
    services.revoke_member(member, actor=current_user)
    flash(f"已撤销 {member.name} 的实例令牌。", "success")
    return redirect(url_for("federation.members"))


@bp.route("/provinces")
def provinces() -> ResponseReturnValue:
    """Members × items for a quarter, and the indicators across members."""
    require_manage_federation(current_user)
    documents = catalogue_queries.documents()
    number = request.args.get("document") or (documents[0].number if documents else "")
    document = catalogue_queries.document_by_number(number) if number else None
    if document is None:
        abort(404)
    period = request.args.get("period") or current_period().key
    try:
        Period.parse(period)
    except ValueError:
        abort(404)
    return render_template(
        "federation/provinces.html", matrix=queries.provinces_matrix(document, period),
        documents=documents,
    )  # fmt: skip


@bp.route("/rollups/<int:rollup_id>")
def rollup(rollup_id: int) -> ResponseReturnValue:
    """One received roll-up, and what it changed against the revision before it."""
    row = queries.rollup(rollup_id) or abort(404)
    require_manage_federation(current_user)
    before = queries.previous_revision(row)
    names = queries.key_names(row.document_number)
    return render_template(
        "federation/rollup.html", row=row, before=before, names=names,
        changes=queries.rollup_changes(before, row, names), words=queries.MILESTONE_WORDS,
    )  # fmt: skip
