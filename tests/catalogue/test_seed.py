"""Seeding the catalogue from tasks_seed.yaml: exact assignments, idempotence, refusals."""

from __future__ import annotations

import sqlalchemy as sa
import yaml

from tests.conftest import SEED_FILE
from tracker.audit.models import AuditEvent
from tracker.catalogue.models import Assignment, Department, PolicyDocument, Role, Task
from tracker.catalogue.services import register_in_use_check
from tracker.extensions import db

# The attachment's clauses, read by hand: item → (lead, support, joint). "ALL" = 各部门.
EXPECTED = {
    1: ([], [], ["民政部", "国务院妇儿工委办公室", "全国妇联"]),
    2: ([], [], ["民政部", "农业农村部", "国务院妇儿工委办公室", "全国妇联"]),
    3: (["人力资源社会保障部"], ["农业农村部", "文化和旅游部", "全国妇联"], []),
    4: ([], [], ["农业农村部", "文化和旅游部"]),
    5: (["民政部"], [], []),
    6: ([], [], ["人力资源社会保障部", "民政部", "全国妇联"]),
    7: (["全国妇联"], [], []),
    8: ([], [], ["民政部", "文化和旅游部", "国家体育总局"]),
    9: ([], [], ["民政部", "财政部", "国家卫生健康委"]),
    10: (["司法部"], ["全国妇联", "民政部"], []),
    11: (["公安部"], ["司法部", "农业农村部", "全国妇联"], []),
    12: ([], [], ["民政部", "司法部"]),
    13: ([], [], ["国家卫生健康委", "全国妇联"]),
    14: ([], [], ["民政部", "国家卫生健康委", "国务院扶贫办", "全国妇联", "中国残联"]),
    15: ([], [], ["全国妇联", "国务院妇儿工委办公室", "民政部"]),
    16: (["全国妇联"], [], []),
    17: ([], [], ["全国妇联", "国务院妇儿工委办公室", "民政部"]),
    18: (["全国妇联"], ["国务院妇儿工委办公室", "民政部", "农业农村部", "国务院扶贫办"], []),
    19: ([], [], ["全国妇联", "民政部", "农业农村部"]),
    20: (["全国妇联"], [], []),
    21: ([], [], ["民政部", "国务院妇儿工委办公室", "全国妇联"]),
    22: ([], [], "ALL"),
    23: (["民政部"], ["全国妇联"], []),
}
DEPARTMENTS = [
    "民政部", "公安部", "司法部", "财政部", "人力资源社会保障部", "农业农村部",
    "文化和旅游部", "国家卫生健康委", "国家体育总局", "国务院扶贫办", "国务院妇儿工委办公室",
    "全国妇联", "中国残联",
]  # fmt: skip


def _assignments(task: Task, role: Role) -> list[str]:
    return [a.department.name for a in task.assignments if a.role == role]


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Department, PolicyDocument, Task, Assignment, AuditEvent)
    )


def test_seed_holds_the_attachment_exactly(runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    names = db.session.scalars(sa.select(Department.name).order_by(Department.position)).all()
    assert names == DEPARTMENTS
    tasks = db.session.scalars(sa.select(Task).order_by(Task.number)).all()
    assert [t.number for t in tasks] == list(range(1, 24))
    for task in tasks:
        lead, support, joint = EXPECTED[task.number]
        assert _assignments(task, Role.LEAD) == lead, task.number
        assert _assignments(task, Role.SUPPORT) == support, task.number
        expected_joint = DEPARTMENTS if joint == "ALL" else joint
        assert _assignments(task, Role.JOINT) == expected_joint, task.number
        assert task.all_departments == (joint == "ALL")
    item11 = tasks[10]
    assert _assignments(item11, Role.LEAD) == ["公安部"]
    assert "国务院妇工委办公室" in tasks[20].clause  # the clause is kept verbatim
    assert tasks[1].main_text_note and "百千万" in tasks[1].main_text_note


def test_second_seed_run_changes_nothing(runner):
    assert runner.invoke(args=["seed"]).exit_code == 0
    before = _counts()
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0
    assert "无需更改" in result.output
    assert _counts() == before


def _write_seed(tmp_path, mutate) -> str:
    data = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def test_edited_text_updates_the_task_and_is_audited(runner, tmp_path):
    runner.invoke(args=["seed"])

    def edit(data):
        data["tasks"][4]["text"] = "指导村民委员会定期关注农村留守妇女。"

    result = runner.invoke(args=["seed", "--file", _write_seed(tmp_path, edit)])
    assert result.exit_code == 0, result.output
    task = db.session.scalar(sa.select(Task).where(Task.number == 5))
    assert task.text == "指导村民委员会定期关注农村留守妇女。"
    event = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "task.update", AuditEvent.object_id == task.id
        )
    )
    assert event is not None
    assert event.before["text"].startswith("指导村民委员会以组织文体活动")
    assert event.after["text"] == "指导村民委员会定期关注农村留守妇女。"


def test_removing_an_assignment_is_applied_when_it_has_no_reports(runner, tmp_path):
    runner.invoke(args=["seed"])

    def drop(data):
        data["tasks"][2]["support"] = ["农业农村部", "文化和旅游部"]

    assert runner.invoke(args=["seed", "--file", _write_seed(tmp_path, drop)]).exit_code == 0
    task = db.session.scalar(sa.select(Task).where(Task.number == 3))
    assert _assignments(task, Role.SUPPORT) == ["农业农村部", "文化和旅游部"]


def test_removing_an_assignment_with_reports_is_refused(runner, tmp_path):
    runner.invoke(args=["seed"])
    acwf_item3 = db.session.scalar(
        sa.select(Assignment.id)
        .join(Task)
        .join(Department)
        .where(Task.number == 3, Department.code == "acwf")
    )

    def has_reports(ids):
        return {i for i in ids if i == acwf_item3}

    register_in_use_check(has_reports)
    try:

        def drop(data):
            data["tasks"][2]["support"] = ["农业农村部", "文化和旅游部"]

        before = _counts()
        result = runner.invoke(args=["seed", "--file", _write_seed(tmp_path, drop)])
        assert result.exit_code != 0
        assert "第3项" in result.output and "全国妇联" in result.output
        assert "不能删除" in result.output
        assert _counts() == before
    finally:
        from tracker.catalogue import services

        services._in_use_checks.remove(has_reports)


def _invalid(runner, tmp_path, mutate, *fragments):
    before = _counts()
    result = runner.invoke(args=["seed", "--file", _write_seed(tmp_path, mutate)])
    assert result.exit_code != 0
    for fragment in fragments:
        assert fragment in result.output, result.output
    assert _counts() == before
    return result


def test_unknown_department_is_refused(runner, tmp_path):
    def bad(data):
        data["tasks"][10]["support"].append("国家发展改革委")

    _invalid(runner, tmp_path, bad, "第11项", "support", "国家发展改革委")


def test_duplicate_item_number_is_refused(runner, tmp_path):
    def bad(data):
        data["tasks"][5]["number"] = 5

    _invalid(runner, tmp_path, bad, "第5项", "number", "重复")


def test_department_both_lead_and_support_is_refused(runner, tmp_path):
    def bad(data):
        data["tasks"][9]["support"].append("司法部")

    _invalid(runner, tmp_path, bad, "第10项", "司法部")


def test_missing_text_is_refused(runner, tmp_path):
    def bad(data):
        del data["tasks"][6]["text"]

    _invalid(runner, tmp_path, bad, "第7项", "text")


def test_every_problem_is_reported_at_once(runner, tmp_path):
    def bad(data):
        del data["tasks"][0]["clause"]
        data["tasks"][1]["joint"].append("某某部")

    _invalid(runner, tmp_path, bad, "第1项 clause", "第2项 joint", "某某部")


def test_malformed_yaml_is_refused(runner, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("tasks: [\n  - number: 1\n  text: : :\n", encoding="utf-8")
    before = _counts()
    result = runner.invoke(args=["seed", "--file", str(path)])
    assert result.exit_code != 0
    assert "YAML" in result.output
    assert _counts() == before


def test_missing_file_is_refused(runner, tmp_path):
    result = runner.invoke(args=["seed", "--file", str(tmp_path / "nope.yaml")])
    assert result.exit_code != 0
    assert "无法读取" in result.output
