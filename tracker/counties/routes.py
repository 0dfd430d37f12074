"""County ledger pages: the county list (administrator), a county's counts (its county
account, or a coordinator), the province's counties × indicators with completeness, the
quarterly template, and the totals by prefecture with small counts suppressed."""

from __future__ import annotations

import io
from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.audit.services import record_event
from tracker.auth.models import UserRole
from tracker.auth.permissions import (
    can_keep_county_ledger,
    can_manage_counties,
    can_view_county_totals,
    require_enter_county_values,
    require_keep_county_ledger,
    require_manage_counties,
    require_view_county_totals,
)
from tracker.counties import bp, queries, services, sheets, suppression
from tracker.counties.forms import (
    AssignCountyForm,
    CountyImportForm,
    TemplateUploadForm,
    county_values_form,
)
from tracker.counties.models import County
from tracker.errors import DomainError
from tracker.guards import checks_own_text
from tracker.navigation import add_nav
from tracker.periods import Period
from tracker.web import field_error, on_error_render

add_nav("counties.mine", "本县台账", lambda user: user.role == UserRole.COUNTY)
add_nav("counties.ledger", "县级台账", can_keep_county_ledger)
add_nav(
    "counties.totals",
    "县级汇总",
    lambda user: can_view_county_totals(user) and not can_keep_county_ledger(user),
)
add_nav("counties.index", "县名单", can_manage_counties)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period() -> Period:
    """The quarter of ``?period=`` (default: the one before today's); 404 when it is no
    quarter or lies after today's."""
    text = request.args.get("period")
    if not text:
        return queries.default_period()
    try:
        period = Period.parse(text)
    except ValueError:
        abort(404)
    if period > queries.latest_period():
        abort(404)
    return period


def _quarters(period: Period) -> list[Period]:
    """The quarters offered in the picker: the last eight, and the chosen one."""
    latest = queries.latest_period()
    found = [latest]
    while len(found) < 8:
        found.append(found[-1].previous())
    return found if period in found else [*found, period]


# -- the county list (administrator) ------------------------------------------------------------


@bp.route("/counties", methods=["GET"])
def index() -> ResponseReturnValue:
    require_manage_counties(current_user)
    return _index_page(CountyImportForm(formdata=None), _assign_form(formdata=None))


def _assign_form(**kwargs: object) -> AssignCountyForm:
    form = AssignCountyForm(**kwargs)
    form.setup(
        [(u.id, f"{u.username}（{u.display_name}）") for u, _ in queries.county_accounts()],
        queries.all_counties(),
    )
    return form


def _index_page(
    import_form: CountyImportForm, assign_form: AssignCountyForm, status: int = 200
) -> ResponseReturnValue:
    page = render_template(
        "counties/index.html", counties=queries.all_counties(), accounts=queries.county_accounts(),
        import_form=import_form, assign_form=assign_form,
    )  # fmt: skip
    return page, status


@bp.route("/counties/import", methods=["POST"])
def import_counties() -> ResponseReturnValue:
    require_manage_counties(current_user)
    form = CountyImportForm()
    if not form.validate_on_submit():
        return _index_page(form, _assign_form(formdata=None), 422)
    on_error_render(lambda error: _import_refused(form, error))
    added, changed, unchanged = services.import_counties(form.rows, actor=current_user)
    flash(f"县名单已导入：新增 {added} 个，更新 {changed} 个，未变 {unchanged} 个。", "success")
    return redirect(url_for("counties.index"))


def _import_refused(form: CountyImportForm, error: Exception) -> ResponseReturnValue:
    form.file.errors = [*form.file.errors, str(getattr(error, "message", error))]
    return _index_page(form, _assign_form(formdata=None), 422)


@bp.route("/counties/accounts", methods=["POST"])
def assign() -> ResponseReturnValue:
    require_manage_counties(current_user)
    form = _assign_form()
    if not form.validate_on_submit():
        return _index_page(CountyImportForm(formdata=None), form, 422)
    user = next(u for u, _ in queries.county_accounts() if str(u.id) == form.user.data)
    county = queries.county(int(form.county.data)) if form.county.data else None
    on_error_render(lambda error: _assign_refused(form, error))
    services.assign_county(user, county, actor=current_user)
    flash(f"已为 {user.username} 指定县：{county.name if county else '（不指定）'}。", "success")
    return redirect(url_for("counties.index"))


# -- a county's counts ---------------------------------------------------------------------------


@bp.route("/counties/mine")
def mine() -> ResponseReturnValue:
    """A county account's own county (its only page of the ledger)."""
    if current_user.role != UserRole.COUNTY:
        abort(403)
    scope = queries.scope_of(current_user)
    if scope is None:
        return render_template("counties/unassigned.html"), 200
    period = request.args.get("period")
    return redirect(url_for("counties.values", county_id=scope, period=period))


def _refused(error: DomainError, page: Callable[[], ResponseReturnValue]) -> ResponseReturnValue:
    """A service's refusal: the message on top, the page again with the input kept."""
    flash(error.message, "error")
    return page()


def _assign_refused(form: AssignCountyForm, error: DomainError) -> ResponseReturnValue:
    field_error(form, error)
    return _index_page(CountyImportForm(formdata=None), form, 422)


def _load_county(county_id: int) -> County:
    county = queries.county(county_id) or abort(404)
    require_enter_county_values(current_user, county.id, queries.scope_of(current_user))
    return county


@bp.route("/counties/<int:county_id>/values", methods=["GET", "POST"])
@checks_own_text
def values(county_id: int) -> ResponseReturnValue:
    """One county's counts of a quarter: its exact values, typed one field per indicator."""
    county = _load_county(county_id)
    period = _period()
    indicators = queries.county_indicators()
    form = county_values_form(indicators)
    if not form.is_submitted():
        form.fill(queries.values_of_county(county.id, period))
    page = lambda status=200: (  # noqa: E731 - the one page, shown three ways
        render_template("counties/values.html", county=county, period=period, form=form,
                        indicators=indicators, quarters=_quarters(period)),
        status,
    )  # fmt: skip
    if not form.is_submitted():
        return page()
    if not form.validate_on_submit():
        flash("未能保存：请按提示修改后再保存。", "error")
        return page(422)
    on_error_render(lambda error: _refused(error, lambda: page(422)))
    changed = services.set_county_values(county, period, form.values(), actor=current_user)
    flash(f"已保存{county.name}{period.label}的数据（{changed} 项有变化）。", "success")
    return redirect(url_for("counties.values", county_id=county.id, period=period.key))


# -- the province's ledger (coordinators) --------------------------------------------------------


@bp.route("/counties/ledger")
def ledger() -> ResponseReturnValue:
    """Counties × indicators of a quarter, exact, with completeness per indicator."""
    require_keep_county_ledger(current_user)
    period = _period()
    return _ledger_page(period, TemplateUploadForm(formdata=None))


def _ledger_page(
    period: Period, upload: TemplateUploadForm, status: int = 200
) -> ResponseReturnValue:
    counties, indicators = queries.all_counties(), queries.county_indicators()
    values, complete = queries.completeness(period, indicators, counties)
    page = render_template(
        "counties/ledger.html", period=period, counties=counties, indicators=indicators,
        values=values, complete=complete, upload=upload, quarters=_quarters(period),
    )  # fmt: skip
    return page, status


@bp.route("/counties/ledger/template")
def template() -> ResponseReturnValue:
    """The quarter's blank template: one row per county, one column per indicator."""
    require_keep_county_ledger(current_user)
    period = _period()
    data = sheets.write_template(period, queries.all_counties(), queries.county_indicators())
    record_event("county.template", actor=current_user, object_type="county_value",
                 after={"period": period.key})  # fmt: skip
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"县级台账模板-{period.key}.xlsx")  # fmt: skip


@bp.route("/counties/ledger/upload", methods=["POST"])
def upload() -> ResponseReturnValue:
    """Store a filled-in template of the quarter: all of it, or nothing."""
    require_keep_county_ledger(current_user)
    period = _period()
    form = TemplateUploadForm()
    form.setup(period, queries.counties_by_code(), queries.county_indicators())
    if not form.validate_on_submit():
        flash("模板未保存：请按提示修改后重新上传。", "error")
        return _ledger_page(period, form, 422)
    on_error_render(lambda error: _refused(error, lambda: _ledger_page(period, form, 422)))
    counties, changed = services.apply_template(period, form.parsed, actor=current_user)
    flash(f"模板已保存：{counties} 个县的 {changed} 项数据有变化。", "success")
    return redirect(url_for("counties.ledger", period=period.key))


# -- above county level: totals by prefecture, small counts suppressed --------------------------


def _totals_table(period: Period) -> tuple[list[list[str]], list[str]]:
    """Rows (prefecture, its counties, each indicator's total shown) and the province row:
    small totals suppressed, and one more prefecture's hidden where a single small one could
    be subtracted out of the province total (:func:`suppression.shown_in_group`)."""
    indicators = queries.county_indicators()
    totals = queries.prefecture_totals(period)
    province = queries.province_totals([period], [i.key for i in indicators])
    names = queries.prefectures()
    rows = [[name, str(count)] for name, count in names]
    for indicator in indicators:
        found = [totals.get((name, indicator.key)) for name, _ in names]
        texts = suppression.shown_in_group([f.total if f else None for f in found])
        for cells, total, text in zip(rows, found, texts, strict=True):
            cells.append(f"{text}（{total.counties_reporting}县）" if total else "—")
    footer = ["全省合计", str(len(queries.all_counties()))]
    for indicator in indicators:
        whole = province.get((indicator.key, period.key))
        footer.append(
            f"{suppression.shown(whole.total)}（{whole.counties_reporting}县）" if whole else "—"
        )
    return rows, footer


@bp.route("/counties/totals")
def totals() -> ResponseReturnValue:
    require_view_county_totals(current_user)
    period = _period()
    rows, footer = _totals_table(period)
    return render_template(
        "counties/totals.html", period=period, indicators=queries.county_indicators(),
        rows=rows, footer=footer, label=suppression.suppressed_label(), quarters=_quarters(period),
    )  # fmt: skip


@bp.route("/counties/totals.xlsx")
def totals_export() -> ResponseReturnValue:
    """The totals by prefecture as a workbook, suppressed exactly as on the page."""
    require_view_county_totals(current_user)
    period = _period()
    rows, footer = _totals_table(period)
    data = sheets.write_totals(period, queries.county_indicators(), rows, footer,
                               suppression.suppressed_label())  # fmt: skip
    record_event("county.totals_export", actor=current_user, object_type="county_value",
                 after={"period": period.key})  # fmt: skip
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"县级台账汇总-{period.key}.xlsx")  # fmt: skip
