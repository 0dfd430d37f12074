"""Each refused field gets one Chinese message, keyed as the client sent it."""

from __future__ import annotations

import pytest

from tracker.reports.limits import MAX_FIGURES, MAX_NARRATIVE


@pytest.fixture
def mca(quarter, make_user, api):
    return api(make_user("liaison", "mca"))


def _fields(response) -> dict[str, str]:
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid"
    return body["fields"]


def test_messages_say_what_is_wrong_with_each_field(mca, quarter):
    item5 = quarter.obligation(5, "mca").id
    body = {
        "obligation_id": item5,
        "status": "done",
        "progress": "长" * (MAX_NARRATIVE + 1),
        "problems": 5,
        "practices": "a\x00b",
        "colour": "red",
        "figures": [
            {"name": "人次", "value": 1},
            {"name": "人次", "value": "很多"},
            {"name": "", "value": 1},
            "1200",
        ],
    }
    fields = _fields(mca.post("/reports", json=body))
    assert fields == {
        "status": "自评状态应为 not_started / in_progress / completed / ongoing 之一",
        "progress": f"工作进展不能超过 {MAX_NARRATIVE} 字",
        "problems": "存在的困难和问题应为字符串",
        "practices": "经验做法含有无法保存的字符（如 NUL）",
        "colour": "未知字段",
        "figures[1]": "数值应为数字，如 1200 或 35.5",
        "figures[2]": "请填写指标名称",
        "figures[3]": "关键数据应为 JSON 对象",
    }


def test_required_ids_and_lists(mca):
    assert _fields(mca.post("/reports", json={"figures": [{"name": "x", "value": 1}] * 6})) == {
        "obligation_id": "事项编号 obligation_id为必填项",
        "figures": f"关键数据不能超过 {MAX_FIGURES} 项",
    }
    fields = _fields(mca.post("/reports", json={"obligation_id": True, "figures": "1"}))
    assert fields == {
        "obligation_id": "事项编号 obligation_id应为正整数",
        "figures": "关键数据应为列表",
    }


def test_query_arguments_are_explained_too(mca):
    fields = _fields(mca.get("/notifications", query_string={"limit": "501", "unread": "x"}))
    assert fields == {"unread": "未读应为 0 / 1 之一", "limit": "条数不能大于 500"}
    assert _fields(mca.get("/obligations", query_string={"period": "2024q3"})) == {
        "period": "报告期应形如 2026Q3"
    }
    assert _fields(mca.get("/me", query_string={"perod": "2024Q3"})) == {"perod": "未知的查询参数"}
