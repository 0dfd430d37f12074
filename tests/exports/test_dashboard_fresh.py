"""An Excel template upload writes drafts: it moves the period's data version in the same
transaction, so no dashboard answer cached before it is served after it."""

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


def test_an_upload_bumps_the_version_and_the_dashboard_recounts(client, quarter, people, login):
    login(people["mps"])
    before, version = _cells(), _version()
    data = download(client)
    row = row_of(data, 11)
    assert upload(client, edit(data, {(row, PROGRESS): "开展专项行动 4 次"})).status_code == 302
    assert _version() != version  # bumped with the drafts
    misses = answer_cache().misses
    after = _cells()
    assert answer_cache().misses > misses  # recounted, not served from before the upload
    assert after == before  # a draft counts as not submitted: the lights stand
    obligation = quarter.obligation(11, "mps")
    assert obligation.report is not None and obligation.report.progress == "开展专项行动 4 次"
