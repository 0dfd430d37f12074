"""Creating a document from an import: refusals happen before anything is written."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.catalogue.models import Assignment, PolicyDocument, Task
from tracker.catalogue.seedfile import SeedDocument, SeedTask
from tracker.catalogue.services import CatalogueError, create_document
from tracker.extensions import db
from tracker.imports.services import ImportRefused, import_attachment

DOCUMENT = SeedDocument("示发〔2024〕1号", "关于做好示例工作的通知", "民政部", dt.date(2024, 1, 5))


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (PolicyDocument, Task, Assignment, AuditEvent)
    )


def _task(number: int, *assignments: tuple[str, str]) -> SeedTask:
    return SeedTask(number, None, f"第{number}项内容。", "民政部负责", None, list(assignments))


def test_create_document_refuses_everything_wrong_at_once(seeded):
    before = _counts()
    tasks = [_task(1, ("mca", "lead")), _task(1, ("mfa", "lead")), _task(2, ("nbs", "joint"))]

    with pytest.raises(CatalogueError) as refused:
        create_document(SeedDocument("民发〔2019〕86号", "x", "y", None), tasks)

    assert refused.value.problems == [
        "文号为「民发〔2019〕86号」的文件已在目录中，不能重复导入",
        "第1项：编号重复",
        "未知部门代码「mfa」：导入不会新建部门",
        "未知部门代码「nbs」：导入不会新建部门",
    ]
    assert _counts() == before


def test_create_document_needs_items(seeded):
    with pytest.raises(CatalogueError, match="没有任何任务事项"):
        create_document(DOCUMENT, [])


def test_import_attachment_flushes_but_never_commits(seeded):
    before = _counts()

    document = import_attachment("一、健全工作机制。（民政部牵头，财政部配合）\n", DOCUMENT)

    assert [(t.number, len(t.assignments)) for t in document.tasks] == [(1, 2)]
    db.session.rollback()
    assert _counts() == before


def test_import_attachment_refuses_text_with_problems(seeded):
    with pytest.raises(ImportRefused) as refused:
        import_attachment("一、健全工作机制。（外交部负责）\n三、跳号。（民政部负责）\n", DOCUMENT)

    assert refused.value.problems == [
        "第1项：无法识别的部门「外交部」",
        "第3项：编号不连续，应为第2项",
    ]
    assert [item.number for item in refused.value.result.items] == [1, 3]
