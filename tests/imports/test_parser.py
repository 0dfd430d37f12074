"""Tests for the 任务分工 attachment parser (pure Python: no Flask, no database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tracker.imports.parser import (
    ALL_DEPARTMENTS,
    DepartmentRegistry,
    ParsedItem,
    ParseProblem,
    chinese_numeral_to_int,
    parse_attachment,
    parse_clause,
)

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
REPO_ROOT = Path(__file__).resolve().parents[2]
TASKS_SEED = REPO_ROOT / "tasks_seed.yaml"
# The published 民发〔2019〕86号 as extracted to text (the letterhead garbled by extraction).
SEED_DOCUMENT = FIXTURES / "minfa_2019_86.txt"

TEST_DEPARTMENTS: list[dict[str, Any]] = [
    {"code": "mca", "name": "民政部", "aliases": []},
    {"code": "mof", "name": "财政部", "aliases": []},
    {"code": "moj", "name": "司法部", "aliases": []},
    {"code": "mohrss", "name": "人力资源社会保障部", "short_name": "人社部", "aliases": []},
    {"code": "moa", "name": "农业农村部", "aliases": ["农业部"]},
    {"code": "mct", "name": "文化和旅游部", "aliases": None},
    {
        "code": "nwccw",
        "name": "国务院妇儿工委办公室",
        "short_name": "妇儿工委办",
        "aliases": ["国务院妇工委办公室"],
    },
    {"code": "acwf", "name": "全国妇联", "short_name": "全国妇联", "aliases": ["妇联"]},
]

MCA, MOF, MOJ = "民政部", "财政部", "司法部"
MOHRSS, MOA, MCT = "人力资源社会保障部", "农业农村部", "文化和旅游部"
NWCCW, ACWF = "国务院妇儿工委办公室", "全国妇联"


@pytest.fixture(scope="module")
def registry() -> DepartmentRegistry:
    """Small registry for the invented attachments."""
    return DepartmentRegistry.from_entries(TEST_DEPARTMENTS)


@pytest.fixture(scope="module")
def tasks_seed() -> dict[str, Any]:
    """The catalogue tasks_seed.yaml, loaded with yaml.safe_load."""
    import yaml

    return yaml.safe_load(TASKS_SEED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seed_document() -> str:
    """Full text of the seed policy document (main text and attachment)."""
    return SEED_DOCUMENT.read_text(encoding="utf-8")


def read_fixture(name: str) -> str:
    """Text of one invented attachment under fixtures/."""
    return (FIXTURES / name).read_text(encoding="utf-8")


def summary(item: ParsedItem) -> tuple[Any, ...]:
    """The fields compared against expectations."""
    return item.number, item.text, item.clause, item.lead, item.support, item.joint


# ------------------------------------------------------------------------ seed round trip


def test_seed_document_round_trip(seed_document: str, tasks_seed: dict[str, Any]) -> None:
    registry = DepartmentRegistry.from_entries(tasks_seed["departments"])

    result = parse_attachment(seed_document, registry)

    assert [str(problem) for problem in result.problems] == []
    assert len(result.items) == 23
    assert len(tasks_seed["tasks"]) == 23
    for item, task in zip(result.items, tasks_seed["tasks"], strict=True):
        expected = (
            task["number"],
            task["text"],
            task["clause"],
            task["lead"],
            task["support"],
            task["joint"],
        )
        assert summary(item) == expected, f"第{task['number']}项"
        assert item.problems == []


# ----------------------------------------------------------------------- clause forms

CLAUSE_FORMS = [
    # number, text, clause, lead, support, joint
    (1, "健全工作机制，明确各方职责。", "民政部牵头，财政部、司法部按照职责分工负责",
     [MCA], [MOF, MOJ], []),
    (2, "加大资金投入。", "财政部牵头，民政部按职责分工负责", [MOF], [MCA], []),
    (3, "做好宣传引导。", "全国妇联牵头，民政部、司法部按照分工负责", [ACWF], [MCA, MOJ], []),
    (4, "强化职业技能培训。", "人力资源社会保障部牵头，农业农村部分工负责",
     [MOHRSS], [MOA], []),
    (5, "开展结对帮扶活动。", "民政部牵头，全国妇联配合", [MCA], [ACWF], []),
    (6, "组织志愿服务队伍。", "民政部牵头，司法部、全国妇联参与", [MCA], [MOJ, ACWF], []),
    (7, "落实兜底保障政策。", "民政部负责", [MCA], [], []),
    (8, "加强法律援助服务。", "司法部、全国妇联按照职责分工负责", [], [], [MOJ, ACWF]),
    (9, "压实各方工作责任。", "各部门按照职责分工负责", [], [], ALL_DEPARTMENTS),
    (10, "建立信息台账。", "民政部牵头", [MCA], [], []),
    (11, "完善资金管理办法。", "财政部牵头，民政部按照职责分工负责", [MOF], [MCA], []),
    (12, "加强法治宣传。", "司法部,全国妇联按照职责分工负责", [], [], [MOJ, ACWF]),
    (13, "推动政策落地。", "民政部牵头，财政部，司法部按照职责分工负责", [MCA], [MOF, MOJ], []),
    (14, "开展困难帮扶。", "民政部、财政部等按照职责分工负责", [], [], [MCA, MOF]),
    (15, "发挥妇女儿童工作机构作用。", "国务院妇工委办公室、全国妇联按照职责分工负责",
     [], [], [NWCCW, ACWF]),
    (16, "提升关爱服务能力，提高服务质量和水平。", "民政部负责", [MCA], [], []),
    (17, "完善乡村文化设施，丰富精神文化生活。", "文化和旅游部、农业农村部按照职责分工负责",
     [], [], [MCT, MOA]),
    (18, "由乡镇（街道）统筹实施。", "民政部牵头，司法部配合", [MCA], [MOJ], []),
    (19, "建立联席会议制度。", "民政部、财政部牵头，全国妇联按照职责分工负责",
     [MCA, MOF], [ACWF], []),
    (20, "加强矛盾纠纷化解。", "司法部按照职责分工负责", [MOJ], [], []),
    (21, "推进就业创业。", "人社部牵头负责", [MOHRSS], [], []),
    (22, "开展健康服务。", "民政部、财政部负责", [], [], [MCA, MOF]),
    (23, "加强基层队伍建设，提升专业化水平。", "民政部负责", [MCA], [], []),
    (24, "推广农业实用技术。", "农业农村部牵头，人力资源社会保障部、全国妇联配合",
     [MOA], [MOHRSS, ACWF], []),
    (25, "实施文化惠民工程。", "文化和旅游部牵头，民政部参与", [MCT], [MCA], []),
    (26, "强化督促检查。", "民政部按职责分工负责", [MCA], [], []),
    (27, "开展家庭教育指导。", "全国妇联负责", [ACWF], [], []),
    (28, "做好统计监测。", "民政部、全国妇联按照分工负责", [], [], [MCA, ACWF]),
    (29, "加强经费保障。", "财政部牵头，民政部、全国妇联等按照职责分工负责",
     [MOF], [MCA, ACWF], []),
    (30, "加强舆论引导。", "全国妇联牵头,民政部配合", [ACWF], [MCA], []),
    (31, "及时总结推广经验。", "民政部牵头，财政部、司法部、全国妇联、农业农村部按照职责分工负责",
     [MCA], [MOF, MOJ, ACWF, MOA], []),
]  # fmt: skip


def test_clause_forms_attachment_parses_every_item(registry: DepartmentRegistry) -> None:
    result = parse_attachment(read_fixture("attachment_clause_forms.txt"), registry)

    assert result.ok, [str(problem) for problem in result.problems]
    assert [summary(item) for item in result.items] == CLAUSE_FORMS


def test_page_break_and_page_number_inside_item_are_dropped(
    registry: DepartmentRegistry,
) -> None:
    items = parse_attachment(read_fixture("attachment_clause_forms.txt"), registry).items

    assert items[15].text == "提升关爱服务能力，提高服务质量和水平。"
    assert items[16].text == "完善乡村文化设施，丰富精神文化生活。"


def test_closing_furniture_is_not_part_of_last_item(registry: DepartmentRegistry) -> None:
    last = parse_attachment(read_fixture("attachment_clause_forms.txt"), registry).items[-1]

    assert last.number == 31
    assert last.text == "及时总结推广经验。"
    assert "主动公开" not in last.clause


def test_whole_document_starts_after_last_attachment_heading(
    registry: DepartmentRegistry,
) -> None:
    result = parse_attachment(read_fixture("document_with_attachment.txt"), registry)

    assert result.ok
    assert [summary(item) for item in result.items] == [
        (1, "健全工作机制。", "民政部牵头，财政部按照职责分工负责", [MCA], [MOF], []),
        (2, "加强组织保障。", "财政部负责", [MOF], [], []),
    ]


def test_attachment_without_heading_is_read_from_the_start(
    registry: DepartmentRegistry,
) -> None:
    text = "\n前言不属于任何事项。\n一、第一项。（民政部负责）\n二、第二项。\n（财政部负责）\n"

    result = parse_attachment(text, registry)

    assert result.ok
    assert [summary(item) for item in result.items] == [
        (1, "第一项。", "民政部负责", [MCA], [], []),
        (2, "第二项。", "财政部负责", [MOF], [], []),
    ]


def test_clause_may_be_followed_by_full_stop(registry: DepartmentRegistry) -> None:
    item = parse_attachment("一、做好工作。（民政部负责）。", registry).items[0]

    assert (item.text, item.clause, item.lead) == ("做好工作。", "民政部负责", [MCA])


def test_text_without_items_is_a_problem(registry: DepartmentRegistry) -> None:
    result = parse_attachment("附件\n\n任务分工\n\n主动公开\n", registry)

    assert result.items == []
    assert [str(problem) for problem in result.problems] == ["未找到任何编号事项（如“一、”）"]


# ----------------------------------------------------------------------------- errors


def test_error_attachment_reports_every_problem_in_order(registry: DepartmentRegistry) -> None:
    result = parse_attachment(read_fixture("attachment_errors.txt"), registry)

    assert [str(problem) for problem in result.problems] == [
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
    assert not result.ok


def test_error_attachment_still_returns_every_item(registry: DepartmentRegistry) -> None:
    items = parse_attachment(read_fixture("attachment_errors.txt"), registry).items

    assert [item.number for item in items] == [1, 2, 3, 4, 6, 6, 7, 8, 9, 10]
    assert [len(item.problems) for item in items] == [0, 1, 1, 1, 1, 1, 2, 1, 1, 1]
    assert (items[1].lead, items[1].support) == ([], [MCA])
    assert (items[3].text, items[3].clause) == ("缺少责任分工的事项。", "")
    assert (items[6].lead, items[6].support) == ([MCA], [MOF])
    assert items[7].joint == [MCA, MOF]


def test_problem_carries_item_number_and_message(registry: DepartmentRegistry) -> None:
    problem = parse_attachment("一、事项。（外交部负责）", registry).problems[0]

    assert problem == ParseProblem(1, "无法识别的部门「外交部」")
    assert str(problem) == "第1项：无法识别的部门「外交部」"


# ---------------------------------------------------------------------------- clauses


def test_parse_clause_unpacks_as_tuple(registry: DepartmentRegistry) -> None:
    lead, support, joint, problems = parse_clause("民政部牵头，财政部配合", registry)

    assert (lead, support, joint, problems) == ([MCA], [MOF], [], [])


@pytest.mark.parametrize(
    ("clause", "message"),
    [
        ("民政部统筹", "无法解析的责任分工表述「民政部统筹」"),
        ("民政部配合", "无法解析的责任分工表述「民政部配合」"),
        ("民政部牵头，财政部统筹", "无法解析的责任分工表述「民政部牵头，财政部统筹」"),
        ("按照职责分工负责", "无法解析的责任分工表述「按照职责分工负责」"),
        ("民政部、各部门按照职责分工负责", "无法识别的部门「各部门」"),
        ("民政部、财政部、mca负责", "部门重复「mca」"),
        ("民政部牵头，国务院办公厅配合", "无法识别的部门「国务院办公厅」"),
        ("民政", "无法解析的责任分工表述「民政」"),
    ],
)
def test_parse_clause_problems(registry: DepartmentRegistry, clause: str, message: str) -> None:
    result = parse_clause(clause, registry, 5)

    assert [str(problem) for problem in result.problems] == [f"第5项：{message}"]


def test_parse_clause_without_number_gives_bare_message(registry: DepartmentRegistry) -> None:
    problems = parse_clause("外交部负责", registry).problems

    assert [str(problem) for problem in problems] == ["无法识别的部门「外交部」"]


def test_unknown_department_is_reported_not_guessed(registry: DepartmentRegistry) -> None:
    result = parse_clause("民政部、民政局、全国妇联负责", registry, 2)

    assert result.joint == [MCA, ACWF]
    assert [str(problem) for problem in result.problems] == ["第2项：无法识别的部门「民政局」"]


# ---------------------------------------------------------------------------- registry


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("民政部", MCA),
        ("  民政部\u3000", MCA),
        ("mca", MCA),
        ("国务院妇工委办公室", NWCCW),
        ("妇儿工委办", NWCCW),
        ("人社部", MOHRSS),
        ("民政", None),
        ("MCA", None),
        ("民政部办公厅", None),
        ("", None),
    ],
)
def test_registry_resolves_exact_spellings_only(
    registry: DepartmentRegistry, text: str, expected: str | None
) -> None:
    assert registry.resolve(text) == expected


def test_registry_keeps_canonical_names_in_order(registry: DepartmentRegistry) -> None:
    assert registry.names == tuple(entry["name"] for entry in TEST_DEPARTMENTS)


def test_registry_refuses_ambiguous_alias() -> None:
    entries = [
        {"code": "a", "name": "甲部", "aliases": ["部委"]},
        {"code": "b", "name": "乙部", "aliases": ["部委"]},
    ]

    with pytest.raises(ValueError, match="部委"):
        DepartmentRegistry.from_entries(entries)


def test_registry_refuses_duplicate_name() -> None:
    with pytest.raises(ValueError, match="甲部"):
        DepartmentRegistry.from_entries([{"name": "甲部"}, {"name": "甲部"}])


# ---------------------------------------------------------------------------- numerals

NUMERALS = [
    "一", "二", "三", "四", "五", "六", "七", "八",
    "九", "十", "十一", "十二", "十三", "十四", "十五", "十六",
    "十七", "十八", "十九", "二十", "二十一", "二十二", "二十三", "二十四",
    "二十五", "二十六", "二十七", "二十八", "二十九", "三十", "三十一", "三十二",
    "三十三", "三十四", "三十五", "三十六", "三十七", "三十八", "三十九", "四十",
    "四十一", "四十二", "四十三", "四十四", "四十五", "四十六", "四十七", "四十八",
    "四十九", "五十", "五十一", "五十二", "五十三", "五十四", "五十五", "五十六",
    "五十七", "五十八", "五十九", "六十", "六十一", "六十二", "六十三", "六十四",
    "六十五", "六十六", "六十七", "六十八", "六十九", "七十", "七十一", "七十二",
    "七十三", "七十四", "七十五", "七十六", "七十七", "七十八", "七十九", "八十",
    "八十一", "八十二", "八十三", "八十四", "八十五", "八十六", "八十七", "八十八",
    "八十九", "九十", "九十一", "九十二", "九十三", "九十四", "九十五", "九十六",
    "九十七", "九十八", "九十九",
]  # fmt: skip


@pytest.mark.parametrize(("value", "numeral"), list(enumerate(NUMERALS, start=1)))
def test_chinese_numeral_to_int(value: int, numeral: str) -> None:
    assert chinese_numeral_to_int(numeral) == value


@pytest.mark.parametrize("numeral", ["", "零", "一十", "十十", "二二", "一百", "百", "十一二", "2"])
def test_chinese_numeral_to_int_rejects_other_forms(numeral: str) -> None:
    with pytest.raises(ValueError):
        chinese_numeral_to_int(numeral)
