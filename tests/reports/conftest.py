"""Reporting fixtures live in tests/conftest.py (``quarter``, ``beijing``); re-exported here,
with :func:`grow_portfolio` for the tests that a page does not grow with the portfolio."""

import sqlalchemy as sa

from tests.conftest import BEIJING, Quarter, beijing
from tracker.catalogue.models import Assignment, Department, PolicyDocument, Role, Task
from tracker.catalogue.services import national_jurisdiction
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import services

__all__ = ["BEIJING", "Quarter", "beijing", "grow_portfolio"]

CLAUSE = (("acwf", Role.LEAD), ("moa", Role.SUPPORT), ("cdpf", Role.SUPPORT))


def grow_portfolio(
    app, monkeypatch, *, documents: int, items: int, first: str = "2024Q3", clause=CLAUSE
) -> None:
    """Add ``documents`` documents of ``items`` items each (全国妇联 leading, 农业农村部 and
    中国残联 supporting, unless ``clause`` says otherwise) and open every quarter from ``first``
    to 2024Q3, tracked from ``first`` on: more documents and more history at once."""
    by_code = {d.code: d for d in db.session.scalars(sa.select(Department))}
    national = national_jurisdiction()
    for k in range(documents):
        document = PolicyDocument(number=f"增长〔2024〕{k + 1}号", title="测试文件", issuer="测试")
        db.session.add(document)
        for n in range(1, items + 1):
            task = Task(number=n, section="三(一)", text=f"第{n}项", clause="")
            document.tasks.append(task)
            for position, (code, role) in enumerate(clause):
                task.assignments.append(
                    Assignment(department=by_code[code], jurisdiction=national, role=role,
                               position=position)
                )  # fmt: skip
    db.session.flush()
    monkeypatch.setitem(app.config, "TRACKER_FIRST_PERIOD", first)
    for period in Period.range(Period.parse(first), Period(2024, 3)):
        services.open_period(period)
    db.session.commit()
