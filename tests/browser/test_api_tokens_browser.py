"""In a real browser: issue an API token on the profile page, call the API over HTTP with it,
revoke it on the page, and see the API refuse it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _call(live_server: str, path: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{live_server}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_issue_use_and_revoke_a_token(page, live_server, seeded, make_user, sign_in, screenshot):
    from tracker.reports.tasks import open_periods_job

    open_periods_job()  # what the scheduler does when it starts: the current quarter is open
    user = make_user("liaison", "mohrss")
    sign_in(user)
    page.click("text=接口令牌")
    page.fill("input[name=name]", "人社部业务系统")
    page.click("button:has-text('签发新令牌')")
    token = page.locator("[data-testid=new-token]").inner_text().strip()
    screenshot("api-token-issued")

    status, me = _call(live_server, "/me", token)
    assert status == 200 and me["username"] == user.username
    status, obligations = _call(live_server, "/obligations", token)
    assert status == 200
    assert {o["department"]["code"] for o in obligations["items"]} == {"mohrss"}

    page.goto(f"{live_server}/profile/tokens")
    assert token not in page.content()  # shown once only
    page.click("button:has-text('撤销')")
    expect(page.locator("[data-testid=confirmation]")).to_contain_text(
        "使用它的系统将无法再访问接口"
    )
    page.click("#confirm-action")
    expect(page.locator("body")).to_contain_text("已撤销")
    status, error = _call(live_server, "/me", token)
    assert status == 401 and error["error"] == "unauthorized"
