"""上报预览: before 上报, the provincial coordinator reads what the roll-up of a quarter will
carry, built by the same function as the push (tracker.federation.queries.next_rollup); the
push that follows carries exactly that. Coordinators only; a GET changes nothing."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from flask import render_template

from tests.federation import test_county_rollup, test_province
from tests.federation.test_county_rollup import _enter
from tests.federation.test_province import _submit
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.federation import queries
from tracker.federation.models import PushMessage

quarter_filed = test_province.quarter_filed  # item 23 filed on the province (not submitted)
ledger_province = test_county_rollup.ledger_province  # ... submitted, with five counties


def _url(adoption, period: str | None = "2024Q3") -> str:
    query = "" if period is None else f"?period={period}"
    return f"/federation/adoptions/{adoption.id}/preview{query}"


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _items_as_the_page_renders(app, adoption, items) -> str:
    names = queries.rollup_preview(adoption, "2024Q3").names
    with app.test_request_context():
        return render_template(
            "federation/_rollup_items.html", items=items, names=names,
            words=queries.MILESTONE_WORDS,
        )  # fmt: skip


def test_the_preview_is_what_the_push_then_carries(ledger_province, client, login, app):
    adoption, keys, coordinator = ledger_province
    _enter(coordinator, "130102", {keys[0]: 1, keys[1]: 3})
    login(coordinator)
    events = _count(AuditEvent)
    response = client.get(_url(adoption))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _count(PushMessage) == 0 and _count(AuditEvent) == events  # a GET writes nothing
    assert "已汇总完毕" in page and "2024年第三季度第 1 版" in page
    assert "（3 个单位报送）" in page  # 省民政厅, 省妇联, and 省公安厅 on the sub-item
    assert "hb-mca 进展" in page and "hb-mps 进展" in page  # the leads' narratives
    assert "hb-acwf 进展" not in page  # a supporting department's text is the lead's input
    assert "完成县级摸底排查：部分完成" in page  # 省民政厅 done, the sub-item partly
    assert page.count("（县级台账合计，1/5 县已报）") == 2  # keys[0] and keys[1]
    assert re.search(r"：1（县级台账合计，1/5 县已报） <span class=\"muted\">指标 " + keys[0], page)
    assert 'name="csrf_token"' in page and 'name="period" value="2024Q3"' in page

    pushed = client.post(f"/federation/adoptions/{adoption.id}/report", data={"period": "2024Q3"})
    assert pushed.status_code == 302
    push = db.session.scalar(sa.select(PushMessage))
    body = json.loads(push.body)
    assert body["revision"] == 1
    assert _items_as_the_page_renders(app, adoption, body["items"]) in page
    (item,) = [i for i in body["items"] if i["item_number"] == 23]
    assert item["units_reporting"] == 3 and "hb-mca 进展" in item["narrative"]
    assert {i["key"]: i["counties"] for i in item["indicators"]} == {
        keys[0]: {"reporting": 1, "of": 5}, keys[1]: {"reporting": 1, "of": 5},
    }  # fmt: skip

    again = client.get(_url(adoption)).get_data(as_text=True)
    assert "第 2 版" in again and "更正此前的版本" in again


def test_a_county_value_taken_away_shows_in_the_preview_as_in_the_push(
    ledger_province, client, login, app
):
    adoption, keys, coordinator = ledger_province
    _enter(coordinator, "130102", {keys[0]: 1})
    _enter(coordinator, "130102", {keys[0]: None})
    login(coordinator)
    page = client.get(_url(adoption)).get_data(as_text=True)
    assert "县已报" not in page and "：137 <span" in page  # 30 + 100 + 7, the departments'
    client.post(f"/federation/adoptions/{adoption.id}/report", data={"period": "2024Q3"})
    body = json.loads(db.session.scalar(sa.select(PushMessage.body)))
    assert _items_as_the_page_renders(app, adoption, body["items"]) in page


def test_narrative_text_is_escaped(quarter_filed, client, login, make_user):
    adoption, _, filed = quarter_filed
    filed["hb-mca"][1].progress = '<script>alert("上报")</script> & <b>粗体</b>'
    db.session.commit()
    _submit(filed, "hb-acwf", "hb-mca", "hb-mps")
    login(make_user("coordinator", "hb-mca"))
    page = client.get(_url(adoption)).get_data(as_text=True)
    escaped = "&lt;script&gt;alert(&#34;上报&#34;)&lt;/script&gt; &amp; &lt;b&gt;粗体&lt;/b&gt;"
    assert escaped in page
    assert "<script>alert" not in page and "<b>粗体</b>" not in page


def test_an_unconsolidated_quarter_says_what_is_missing_and_offers_no_report(
    quarter_filed, client, login, make_user
):
    adoption, key, filed = quarter_filed
    login(make_user("coordinator", "hb-mca"))
    nothing = client.get(_url(adoption)).get_data(as_text=True)
    assert "尚无已报送的材料可汇总" in nothing and "尚未汇总完毕" in nothing
    assert "第23项 省民政厅 的牵头报告尚未报送" in nothing
    assert "第24项 省公安厅 的牵头报告尚未报送" in nothing
    _submit(filed, "hb-acwf")
    page = client.get(_url(adoption)).get_data(as_text=True)
    assert "尚无已报送的材料可汇总" not in page and "（1 个单位报送）" in page
    assert f'：30 <span class="muted">指标 {key}' in page  # 省妇联's value so far
    assert "第23项 省民政厅 的牵头报告尚未报送" in page
    assert f'action="/federation/adoptions/{adoption.id}/report"' not in page
    assert _count(PushMessage) == 0


@pytest.mark.parametrize(
    ("period", "status", "message"),
    [("2024Q9", 422, "应为 年份+Q+季度"), ("", 422, "请填写季度"),
     ("<i>x</i>", 422, "应为 年份+Q+季度"), (None, 200, "")],
)  # fmt: skip
def test_the_quarter_is_checked(quarter_filed, client, login, make_user, period, status, message):
    adoption, _, _ = quarter_filed
    login(make_user("coordinator", "hb-mca"))
    response = client.get(_url(adoption, period))
    page = response.get_data(as_text=True)
    assert response.status_code == status and message in page
    if status == 422:
        assert 'data-item="' not in page and "尚未汇总完毕" not in page
        assert "<i>x</i>" not in page
    else:  # no quarter asked: the current one (2024Q4 on 2024-10-05 is not yet; 2024Q3 is)
        assert 'value="2024Q3"' in page and "2024年第三季度" in page


@pytest.mark.parametrize(
    ("role", "department"),
    [("liaison", "hb-mca"), ("approver", "hb-mca"), ("viewer", "hb-mca"), ("viewer", None),
     ("admin", None)],
)  # fmt: skip
def test_only_coordinators_see_the_preview(ledger_province, client, login, make_user, role,
                                           department):  # fmt: skip
    adoption, _, _ = ledger_province
    assert client.get(_url(adoption)).status_code == 302  # signed out: to the login page
    login(make_user(role, department))
    refused = client.get(_url(adoption))
    assert refused.status_code == 403
    assert "hb-mca 进展" not in refused.get_data(as_text=True)
    if role == "admin":  # the admin manages the cascade, but reads no report texts
        page = client.get(f"/federation/adoptions/{adoption.id}").get_data(as_text=True)
        assert 'id="preview-link"' not in page


def test_the_adoption_page_links_the_preview_for_a_coordinator(ledger_province, client, login):
    adoption, _, coordinator = ledger_province
    login(coordinator)
    page = client.get(f"/federation/adoptions/{adoption.id}").get_data(as_text=True)
    assert f'href="/federation/adoptions/{adoption.id}/preview?period=2024Q3"' in page
