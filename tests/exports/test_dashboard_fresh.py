"""An Excel template upload writes drafts: they count in no figure until submitted, so the
period's data version stays and the cached answers, still true, are served (a recount with the
cache emptied agrees)."""

from __future__ import annotations

import sqlalchemy as sa

from tests.exports.test_template import PROGRESS, download, edit, row_of, upload
from tracker.dashboard import queries
from tracker.dashboard.models import PeriodVersion
from tracker.dashboard.queries.cache import answer_cache
from tracker.extensions import db
from tracker.periods import Period

Q3 = Period(2024, 3)


def _version() -> int | None:
    return db.session.scalar(sa.select(PeriodVersion.version).where(PeriodVersion.period == Q3.key))


def _cells() -> dict[int, str]:
    db.session.rollback()
    cells = {c["obligation_id"]: c["state"] for c in queries.dashboard_data(Q3)["cells"]}
    db.session.rollback()
    return cells


def test_an_upload_of_drafts_keeps_the_version_and_the_cached_answer_true(
    client, quarter, people, login
):
    login(people["mps"])
    before, version = _cells(), _version()
    data = download(client)
    row = row_of(data, 11)
    assert upload(client, edit(data, {(row, PROGRESS): "开展专项行动 4 次"})).status_code == 302
    assert _version() == version  # drafts move no figure
    hits = answer_cache().hits
    after = _cells()
    assert answer_cache().hits > hits  # served from before the upload …
    assert after == before  # a draft counts as not submitted: the lights stand
    answer_cache().clear()
    assert _cells() == before  # … and a recount agrees
    obligation = quarter.obligation(11, "mps")
    assert obligation.report is not None and obligation.report.progress == "开展专项行动 4 次"
