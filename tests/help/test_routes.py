"""The help pages: one per role, linked from every page's navigation for that role, stating
the limits and dates of this deployment's configuration; the sign-in help needs no login."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tracker.auth.models import UserRole
from tracker.extensions import db
from tracker.help.queries import ROLE_PAGES

ROLES = {
    UserRole.LIAISON: "mps",
    UserRole.COORDINATOR: "mca",
    UserRole.VIEWER: "mps",
    UserRole.APPROVER: "mps",
    UserRole.ADMIN: None,
    UserRole.SECURITY_ADMIN: None,
    UserRole.AUDITOR: None,
    UserRole.COUNTY: None,
}


def _text(html: str) -> str:
    """The page's text without tags, entities decoded, white space collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _help_link(html: str) -> str:
    """The href of the header's 操作说明 link (the one the navigation shows on every page)."""
    found = re.findall(r'<a href="([^"]+)" id="help-link"[^>]*>操作说明</a>', html)
    assert len(found) == 1, "exactly one 操作说明 link in the header"
    return found[0]


def test_every_role_has_a_help_page():
    assert set(ROLE_PAGES) == set(UserRole)
    assert set(ROLES) == set(UserRole)


@pytest.mark.parametrize("role", list(UserRole), ids=lambda r: r.value)
def test_each_role_reads_its_own_help_from_the_navigation_of_every_page(
    app, client, login, make_user, quarter, role
):
    login(make_user(role.value, ROLES[role]))
    endpoint, title = ROLE_PAGES[role]
    with app.test_request_context():
        from flask import url_for

        own = url_for(endpoint)
    landing = client.get("/", follow_redirects=True)
    assert landing.status_code == 200
    for page in (landing, client.get("/tasks"), client.get("/departments"), client.get("/search")):
        assert _help_link(page.get_data(as_text=True)) == own
    redirect = client.get("/help")
    assert redirect.status_code == 302 and redirect.headers["Location"] == own

    page = client.get(own)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"<h1>{title}</h1>" in html
    assert f'data-role="{role.value}" aria-current="page"' in html  # marked in the role list
    assert "（您的角色）" in html
    for other_role, (other_endpoint, _) in ROLE_PAGES.items():  # only one's own role's page
        with app.test_request_context():
            from flask import url_for

            other = url_for(other_endpoint)
        if other_role == role:
            continue
        assert f'href="{other}"' not in html
        assert client.get(other).status_code == 403


def test_the_help_states_the_configured_limits(app, client, login, make_user, quarter, monkeypatch):
    login(make_user("liaison", "mps"))
    text = _text(client.get("/help/liaison").get_data(as_text=True))
    assert "每个文件不超过 10 MB" in text  # the defaults
    assert "截止日前 7 个工作日" in text and "每 5 个工作日再提醒一次" in text
    assert "3 天内最多一次" in text
    assert "不超过 5 个工作日（临近截止）" in text
    assert "最多 5 项" in text and "每栏不超过 5000 字" in text
    assert "2024年10月10日" in text and "2024年10月8日" in text  # 2024Q3's due dates

    monkeypatch.setitem(app.config, "TRACKER_EVIDENCE_MAX_BYTES", 3 * 1024 * 1024 // 2)
    monkeypatch.setitem(
        app.config, "TRACKER_REMINDER_LADDER", "early:-3:liaison; late:2:liaison+viewer; weekly:4"
    )
    monkeypatch.setitem(app.config, "TRACKER_URGE_MIN_INTERVAL_DAYS", 7)
    monkeypatch.setitem(app.config, "TRACKER_AMBER_WORKING_DAYS", 2)
    monkeypatch.setitem(app.config, "TRACKER_DUE_OFFSET_DAYS", 15)
    text = _text(client.get("/help/liaison").get_data(as_text=True))
    assert "每个文件不超过 1.5 MB" in text and "10 MB" not in text
    assert "截止日前 3 个工作日 本部门联络员" in text
    assert "逾期 2 个工作日 本部门联络员、本部门查阅账号（部门领导）" in text
    assert "截止日前 7 个工作日" not in text and "每 4 个工作日再提醒一次" in text
    assert "7 天内最多一次" in text
    assert "不超过 2 个工作日（临近截止）" in text
    assert "季度结束后第 15 天" in text and "2024年10月15日" in text

    # the request limit, when smaller, is the one an upload meets
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 512 * 1024)
    assert "每个文件不超过 512 KB" in _text(client.get("/help/liaison").get_data(as_text=True))


def test_the_help_names_whom_to_ask(client, login, make_user, seeded):
    make_user("coordinator", "mca", display_name="督办处 王敏", phone="010-58123456")
    make_user("admin", display_name="信息中心 赵工", email="zhao@example.gov.cn")
    gone = make_user("coordinator", "mca", display_name="已离岗协调员")
    gone.active = False
    db.session.commit()
    login(make_user("viewer", "mps"))
    text = _text(client.get("/help/viewer").get_data(as_text=True))
    assert "督办处 王敏 督办协调员 010-58123456" in text
    assert "信息中心 赵工 系统管理员 — zhao@example.gov.cn" in text
    assert "已离岗协调员" not in text


def test_sign_in_help_needs_no_login_and_names_nobody(app, client, make_user, seeded, monkeypatch):
    make_user("coordinator", "mca", display_name="督办处 王敏", phone="010-58123456")
    login_page = client.get("/login").get_data(as_text=True)
    assert 'href="/help/sign-in"' in login_page
    monkeypatch.setitem(app.config, "TRACKER_LOGIN_MAX_FAILURES", 9)
    monkeypatch.setitem(app.config, "TRACKER_LOGIN_LOCK_MINUTES", 30)
    monkeypatch.setitem(app.config, "TRACKER_SESSION_IDLE_MINUTES", 25)
    monkeypatch.setitem(app.config, "TRACKER_SESSION_MAX_HOURS", 8)
    page = client.get("/help/sign-in")
    assert page.status_code == 200
    text = _text(page.get_data(as_text=True))
    assert "30 分钟内连续输错 9 次" in text
    assert "闲置 25 分钟或登录满 8 小时后须重新登录" in text
    assert "保持登录" not in text
    assert "王敏" not in text and "010-58123456" not in text
    for role in UserRole:  # no internal page is linked
        assert client.get(f"/help/{role.value}").status_code == 302  # to the sign-in page
