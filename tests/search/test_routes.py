"""The search page over HTTP: results grouped and marked, user text escaped, bad input
answered with a message, the navigation box on every page."""

from __future__ import annotations

import re

import pytest

from tests.search.conftest import draft
from tracker.extensions import db
from tracker.reports import services


@pytest.fixture
def signed_in(client, login):
    def sign_in(user):
        login(user)
        return client

    return sign_in


def _page(client, **args):
    response = client.get("/search", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_results_are_grouped_marked_and_linked(people, quarter, signed_in):
    obligation = quarter.obligation(11, "moj")
    draft(obligation, people["moj"], "开展农村留守妇女关爱服务培训。")
    html = _page(signed_in(people["moj"]), q="关爱服务")
    tasks, reports = html.split('id="task-results"')[1].split('id="report-results"')
    assert "<mark>关爱服务</mark>" in tasks and "<mark>关爱服务</mark>" in reports
    assert f'href="/obligations/{obligation.id}"' in reports
    assert "工作进展：" in reports and "司法部" in reports
    assert re.search(r'href="/tasks/\d+"', tasks)


def test_user_text_is_escaped_before_it_is_marked(people, quarter, signed_in):
    draft(quarter.obligation(11, "moj"), people["moj"],
          '<script>alert("x")</script><b>留守</b> & 留守')  # fmt: skip
    html = _page(signed_in(people["moj"]), q="留守 <b>")
    assert "<script>alert" not in html and "<b>留守" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<mark>&lt;b&gt;</mark><mark>留守</mark>&lt;/b&gt; &amp; <mark>留守</mark>" in html


def test_a_draft_never_shows_to_another_department(people, quarter, signed_in, client):
    draft(quarter.obligation(11, "moj"), people["moj"], "仅本部门可见的鑫淼垚森。")
    html = _page(signed_in(people["lead"]), q="鑫淼垚森")
    assert "鑫淼垚森。" not in html and "没有找到您有权查看的相关报告" in html
    assert 'id="report-results"' in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"q": ""}, "请输入要搜索的文字"),
        ({"q": "   "}, "请输入要搜索的文字"),
        ({"q": "留" * 51}, "最多 50 个字"),
        ({"q": "，。！？……%%"}, "不能只有标点符号"),
        ({"q": "妇"}, "至少 2 个字"),
        ({"q": "一二 三四 五六 七八 九十 十一"}, "最多同时搜索 5 个词"),
        ({"q": "留守", "document": "999999"}, "没有这个文件"),
        ({"q": "留守", "document": "abc"}, "没有这个文件"),
        ({"q": "留守", "period": "2024Q9"}, "没有这个报告期"),
        ({"q": "留守", "department": "x"}, "没有这个部门"),
        ({"q": "留守", "item": "-3"}, "事项编号应为"),
        ({"q": "留守", "item": "１"}, "事项编号应为"),
    ],
)
def test_bad_input_gets_a_message(people, signed_in, args, message):
    html = _page(signed_in(people["moj"]), **args)
    assert message in html
    assert 'id="report-results"' not in html


def test_without_a_query_only_the_form(people, signed_in):
    html = _page(signed_in(people["moj"]))
    assert 'id="search-errors"' not in html and 'id="report-results"' not in html


def test_bad_pages_are_clamped(people, quarter, signed_in):
    draft(quarter.obligation(11, "moj"), people["moj"], "鑫淼")
    client = signed_in(people["moj"])
    for page in ("0", "-1", "abc", "999999999999", "3"):
        html = _page(client, q="鑫淼", report_page=page, task_page=page)
        assert "<mark>鑫淼</mark>" in html


def test_filters_reach_the_query(people, quarter, signed_in):
    draft(quarter.obligation(11, "moj"), people["moj"], "鑫淼垚森")
    client = signed_in(people["coordinator"])
    assert "<mark>鑫淼垚森</mark>" in _page(client, q="鑫淼垚森", item="11", period="2024Q3")
    assert "<mark>鑫淼垚森</mark>" not in _page(client, q="鑫淼垚森", item="12")


def test_every_page_has_the_search_box(people, signed_in):
    client = signed_in(people["moj"])
    for url in ("/reports", "/tasks", "/search"):
        html = client.get(url).get_data(as_text=True)
        assert 'action="/search"' in html and 'name="q"' in html, url


def test_a_submitted_report_reaches_the_lead_on_the_page(people, quarter, signed_in):
    report = draft(quarter.obligation(11, "moj"), people["moj"], "配合材料鑫淼。")
    services.submit_report(report, actor=people["moj"])
    db.session.commit()
    html = _page(signed_in(people["lead"]), q="鑫淼")
    assert "配合材料<mark>鑫淼</mark>。" in html


def test_the_page_says_when_a_two_character_search_was_bounded(people, quarter, signed_in,
                                                               monkeypatch):  # fmt: skip
    from tracker.search import queries

    for number in (10, 11, 12):
        draft(quarter.obligation(number, "moj"), people["moj"], "鑫淼")
    monkeypatch.setattr(queries, "SHORT_WINDOW", 2)
    client = signed_in(people["coordinator"])
    assert 'id="search-window"' in _page(client, q="鑫淼")
    assert 'id="search-window"' not in _page(client, q="鑫淼", period="2024Q3")


def test_searching_writes_nothing(people, quarter, signed_in):
    """GET never writes: a search (results, bad input, pages) sends no INSERT, UPDATE or
    DELETE; the listener itself sees the draft saved before."""
    import sqlalchemy as sa

    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if re.match(r"\s*(INSERT|UPDATE|DELETE)\b", statement, re.IGNORECASE):
            seen.append(statement.split("\n")[0][:80])

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        draft(quarter.obligation(11, "moj"), people["moj"], "鑫淼垚森")
        assert seen, "the listener must see a write"
        client = signed_in(people["moj"])
        seen.clear()
        for args in ({"q": "鑫淼"}, {"q": "鑫淼垚森", "report_page": "2"}, {"q": "，"}, {}):
            _page(client, **args)
        assert seen == []
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
