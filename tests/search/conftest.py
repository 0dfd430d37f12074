"""Search fixtures: item 11 of the seed document (公安部 leads; 司法部, 农业农村部 and 全国妇联
support) with users of each part, and helpers that file reports through the services."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput
from tracker.search import queries
from tracker.search.forms import query_terms


@pytest.fixture
def people(quarter, make_user):
    return {
        "lead": make_user("liaison", "mps"),
        "moj": make_user("liaison", "moj"),
        "moj_head": make_user("viewer", "moj"),
        "moa": make_user("liaison", "moa"),
        "coordinator": make_user("coordinator", "mca"),
        "leader": make_user("viewer"),
        "admin": make_user("admin"),
    }


def draft(obligation, actor, progress="", *, figures=(), **fields):
    """Save a draft (a new one or over the existing report) and commit."""
    report = services.save_draft(
        obligation,
        ReportInput(status=ProgressStatus.IN_PROGRESS, progress=progress,
                    figures=[(n, Decimal(v), u) for n, v, u in figures], **fields),
        actor=actor,
        expected_version=obligation.report.version if obligation.report else None,
    )  # fmt: skip
    db.session.commit()
    return report


def found(user, text, **filters):
    """Ids of the reports ``user`` finds for ``text``."""
    query = queries.SearchQuery(terms=query_terms(text), **filters)
    return [r.id for r in queries.search_reports(query, user).items]


def found_tasks(text, **filters):
    """Item numbers of every task found for ``text`` (all pages), lowest first."""
    query = queries.SearchQuery(terms=query_terms(text), **filters)
    numbers, page = [], 1
    while True:
        result = queries.search_tasks(query, page)
        numbers += [t.number for t in result.items]
        if not result.has_next:
            return sorted(numbers)
        page += 1
