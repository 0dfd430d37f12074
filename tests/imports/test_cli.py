"""``flask import-text FILE``: the attachment as ``tasks:`` YAML, or every problem on stderr."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from tests.conftest import SEED_FILE
from tests.imports.test_parser import TEST_DEPARTMENTS
from tracker.catalogue.models import PolicyDocument
from tracker.extensions import db

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The published 民发〔2019〕86号 as extracted to text (the letterhead garbled by extraction).
SEED_DOCUMENT = FIXTURES / "minfa_2019_86.txt"
TASK_KEYS = ("number", "text", "clause", "lead", "support", "joint")

ERROR_PROBLEMS = [
    "第2项：无法识别的部门「国务院办公厅」",
    "第3项：无法解析的责任分工表述「由民政部统筹考虑」",
    "第4项：缺少括号内的责任分工",
    "第6项：编号不连续，应为第5项",
    "第6项：编号重复",
    "第7项：部门同时列为牵头和配合单位「民政部」",
    "第7项：无法识别的部门「外交部」",
    "第8项：部门重复「民政部」",
    "第9项：无法解析的责任分工表述「」",
    "第10项：无法解析的责任分工表述「民政部、、财政部按照职责分工负责」",
]


@pytest.fixture
def seed_document() -> Path:
    """The seed policy document, kept in the repository beside the other fixtures."""
    return SEED_DOCUMENT


def _import_text(runner, *args: str | Path):
    return runner.invoke(args=["import-text", *map(str, args)])


def _seed_tasks() -> list[dict]:
    seed = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    return [{key: task[key] for key in TASK_KEYS} for task in seed["tasks"]]


def _problems(stderr: str) -> list[str]:
    return [
        line.removeprefix("错误：") for line in stderr.splitlines() if line.startswith("错误：")
    ]


def test_seed_document_gives_the_seed_tasks(runner, seed_document):
    result = _import_text(runner, seed_document)

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert yaml.safe_load(result.stdout) == {"tasks": _seed_tasks()}


def test_output_is_seed_shaped_yaml_with_readable_chinese(runner, seed_document):
    out = _import_text(runner, seed_document, "--departments", SEED_FILE).stdout

    assert out.startswith("tasks:\n  - number: 1\n")
    assert "    lead: [人力资源社会保障部]\n" in out
    assert "    support: [农业农村部, 文化和旅游部, 全国妇联]\n" in out
    assert "    joint: all\n" in out  # item 22: 各部门
    assert "\\u" not in out and "各部门按照职责分工负责" in out
    assert list(yaml.safe_load(out)["tasks"][0]) == list(TASK_KEYS)


def test_departments_option_names_a_yaml_with_only_departments(runner, tmp_path):
    departments = tmp_path / "departments.yaml"
    departments.write_text(
        yaml.safe_dump({"departments": TEST_DEPARTMENTS}, allow_unicode=True), encoding="utf-8"
    )

    result = _import_text(
        runner, FIXTURES / "attachment_clause_forms.txt", "--departments", departments
    )

    assert result.exit_code == 0, result.stderr
    tasks = yaml.safe_load(result.stdout)["tasks"]
    assert len(tasks) == 31
    assert tasks[20] == {
        "number": 21,
        "text": "推进就业创业。",
        "clause": "人社部牵头负责",
        "lead": ["人力资源社会保障部"],
        "support": [],
        "joint": [],
    }


def test_every_problem_goes_to_stderr_and_no_yaml_to_stdout(runner):
    result = _import_text(runner, FIXTURES / "attachment_errors.txt")

    assert result.exit_code != 0
    assert result.stdout == ""
    assert _problems(result.stderr) == ERROR_PROBLEMS
    assert "10 个问题" in result.stderr


def test_command_writes_nothing_to_the_database(runner, seed_document):
    assert _import_text(runner, seed_document).exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PolicyDocument)) == 0


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_utf8_with_bom_and_gb18030_are_read(runner, tmp_path, encoding):
    text = (FIXTURES / "document_with_attachment.txt").read_text(encoding="utf-8")
    path = tmp_path / "attachment.txt"
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))

    result = _import_text(runner, path)

    assert result.exit_code == 0, result.stderr
    assert yaml.safe_load(result.stdout)["tasks"] == [
        {
            "number": 1,
            "text": "健全工作机制。",
            "clause": "民政部牵头，财政部按照职责分工负责",
            "lead": ["民政部"],
            "support": ["财政部"],
            "joint": [],
        },
        {
            "number": 2,
            "text": "加强组织保障。",
            "clause": "财政部负责",
            "lead": ["财政部"],
            "support": [],
            "joint": [],
        },
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("一、测试。（民政部负责）".encode("utf-16"), "编码无法识别"),
        ("一、測試。（民政部負責）".encode("big5"), "编码无法识别"),
        (b"PK\x03\x04\x14\x00\x06\x00", "不是纯文本文件"),
        (b"", "为空"),
        (b"x" * (600 * 1024), "超过 512 KB 的上限"),
    ],
    ids=["utf-16", "big5", "binary", "empty", "too-large"],
)
def test_unreadable_file_is_refused_with_a_message(runner, tmp_path, content, message):
    path = tmp_path / "attachment.txt"
    path.write_bytes(content)

    result = _import_text(runner, path)

    assert result.exit_code != 0
    assert result.stdout == ""
    [problem] = _problems(result.stderr)
    assert message in problem and str(path) in problem


def test_missing_file_and_bad_departments_file_are_both_reported(runner, tmp_path):
    departments = tmp_path / "departments.yaml"
    departments.write_text("document: {number: x}\n", encoding="utf-8")

    result = _import_text(runner, tmp_path / "missing.txt", "--departments", departments)

    assert result.exit_code != 0
    assert result.stdout == ""
    problems = _problems(result.stderr)
    assert len(problems) == 2
    assert "缺少非空的 departments: 列表" in problems[0]
    assert "无法读取文件" in problems[1] and "missing.txt" in problems[1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("departments: [\n", "不是有效的 YAML"),
        ("departments:\n  - {code: a}\n  - 民政部\n", "departments 第 1 个：应为含 name 的映射"),
        (
            "departments:\n  - {name: 甲部, aliases: [甲]}\n  - {name: 乙部, aliases: [甲]}\n",
            "部门标识「甲」同时指向「甲部」和「乙部」",
        ),
    ],
    ids=["broken-yaml", "entry-without-name", "ambiguous-alias"],
)
def test_invalid_departments_file_is_refused(runner, tmp_path, content, message):
    departments = tmp_path / "departments.yaml"
    departments.write_text(content, encoding="utf-8")

    result = _import_text(
        runner, FIXTURES / "document_with_attachment.txt", "--departments", departments
    )

    assert result.exit_code != 0
    assert result.stdout == ""
    assert message in result.stderr
