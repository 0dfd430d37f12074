"""Free text normalised as it enters, and the stored text normalised once by revision 0008."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from tracker.extensions import db
from tracker.reports import services
from tracker.reports.limits import normalise_text
from tracker.reports.models import ProgressStatus, Report, ReportVersion
from tracker.reports.services import ReportInput

REVISION = next(Path(__file__).parents[2].glob("migrations/versions/*_0008_*.py"))


def test_normalise_text_joins_line_breaks_and_trims_line_ends_but_keeps_indentation():
    assert normalise_text("甲  \r\n\r\n\u3000\u3000乙\t\r丙 \n\n ") == "甲\n\n\u3000\u3000乙\n丙"
    assert normalise_text("\r\n\n  缩进首行") == "  缩进首行"
    assert normalise_text(normalise_text("a \r\nb")) == normalise_text("a \r\nb") == "a\nb"


def test_api_contract_normalises_text_before_its_limits():
    from tracker.api.contract import ReportCreate, ReturnRequest

    body = ReportCreate.model_validate({"obligation_id": 1, "progress": "进展 \r\n第二行\r\n"})
    assert body.progress == "进展\n第二行"
    assert ReturnRequest.model_validate({"reason": "补充\r\n材料 "}).reason == "补充\n材料"


def _run_revision(batch: int) -> None:
    spec = importlib.util.spec_from_file_location("revision_0008", REVISION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.BATCH = batch
    with Operations.context(MigrationContext.configure(db.session.connection())):
        module.upgrade()


def test_revision_0008_normalises_stored_reports_and_versions(quarter, make_user):
    liaison = make_user("liaison", "mohrss")
    reports = []
    for number in (3, 6, 22):
        report = services.save_draft(
            quarter.obligation(number, "mohrss"),
            ReportInput(status=ProgressStatus.IN_PROGRESS, progress=f"第{number}项"),
            actor=liaison,
            expected_version=None,
        )
        reports.append(report.id)
    db.session.flush()
    # as the browser's text was stored before: CRLF and trailing spaces
    db.session.execute(
        sa.update(Report)
        .where(Report.id.in_(reports[:2]))
        .values(progress="一 \r\n\u3000\u3000二\r\n", return_reason="理由 \r\n")
    )
    for version in db.session.scalars(sa.select(ReportVersion)):
        version.content = {**version.content, "problems": "困难\r\n问题 "}
    db.session.flush()
    db.session.expire_all()
    _run_revision(batch=2)  # three reports in two batches
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(Report.id, Report.progress, Report.return_reason).order_by(Report.id)
    ).all()
    assert [tuple(r)[1:] for r in rows] == [
        ("一\n\u3000\u3000二", "理由"), ("一\n\u3000\u3000二", "理由"), ("第22项", None),
    ]  # fmt: skip
    contents = [v.content for v in db.session.scalars(sa.select(ReportVersion))]
    assert {c["problems"] for c in contents} == {"困难\n问题"}
    assert {c["progress"] for c in contents} == {"第3项", "第6项", "第22项"}
    _run_revision(batch=500)  # a second run finds nothing to change
    db.session.expire_all()
    assert db.session.scalar(sa.select(Report.progress).where(Report.id == reports[0])) == (
        "一\n\u3000\u3000二"
    )


def test_every_review_form_normalises_its_text(app):
    from werkzeug.datastructures import MultiDict

    from tracker.reports.forms import AcceptForm, ReopenForm, ReturnForm, WaiveForm

    typed = "理由 \r\n第二行  \r\n"
    with app.test_request_context(method="POST"):
        for form_class, name in (
            (AcceptForm, "comment"), (ReopenForm, "reason"),
            (ReturnForm, "reason"), (WaiveForm, "reason"),
        ):  # fmt: skip
            form = form_class(formdata=MultiDict({name: typed}), meta={"csrf": False})
            assert form[name].data == "理由\n第二行", form_class.__name__
