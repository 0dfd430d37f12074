"""The search page: one GET view that reads and never writes."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.catalogue import queries as catalogue_queries
from tracker.reports import queries as report_queries
from tracker.search import bp, queries
from tracker.search.forms import SearchForm


def _page(name: str) -> int:
    """A page argument; anything but a positive integer is page 1 (pages are clamped too)."""
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and 0 < len(value) < 6 else 1


@bp.route("/search")
def index() -> ResponseReturnValue:
    """Search tasks and the reports the user may read; without ``q`` only the form."""
    form = SearchForm(request.args)
    form.fill(
        [(d.id, d.number) for d in catalogue_queries.documents()],
        report_queries.tracked_periods(),
        [(d.id, d.name) for d in catalogue_queries.departments()],
    )
    asked = "q" in request.args
    tasks = reports = None
    if asked and form.validate():
        query = form.to_query()
        tasks = queries.search_tasks(query, _page("task_page"))
        reports = queries.search_reports(query, current_user, _page("report_page"))
    terms = form.to_query().terms if tasks is not None else ()
    return render_template(
        "search/index.html", form=form, asked=asked, tasks=tasks, reports=reports,
        terms=terms, args=form.filter_args(), task_context=queries.task_context,
        window=queries.SHORT_WINDOW,
        report_context=lambda report: queries.report_context(
            report, terms, as_lead=queries.reads_as_lead(current_user, report)),
    )  # fmt: skip
