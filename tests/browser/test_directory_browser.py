"""In a real browser: a directory person signs in with the directory's password and lands as
the role and department the directory's groups give; a person it grants nothing is told why."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests import ldapserver
from tests.auth.test_directory import directory  # noqa: F401 - the running slapd

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not ldapserver.available() and not os.environ.get("CI"),
        reason="slapd is not installed here (.ci/run installs it; under CI this never skips)",
    ),
]


def test_signing_in_through_the_directory(
    page,
    live_server,
    app,
    directory,  # noqa: F811 - the fixture imported above
    monkeypatch,
    quarter,
    sign_in,
    sign_out,
    screenshot,
):
    for name, value in directory.config().items():
        monkeypatch.setitem(app.config, name, value)
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "wangwu")
    page.fill("input[name=password]", ldapserver.PASSWORDS["wangwu"])
    page.click("button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("不属于本系统的任何角色组")
    expect(page.locator("input[name=username]")).to_have_value("wangwu")  # what was typed stays
    page.fill("input[name=username]", "zhangsan")
    page.fill("input[name=password]", ldapserver.PASSWORDS["zhangsan"])
    with page.expect_navigation(wait_until="load"):
        page.click("button[type=submit]")
    screenshot("directory-sign-in")
    expect(page.locator("header")).to_contain_text("张三")
    expect(page.locator("header")).to_contain_text("公安部")
    expect(page.locator("header a", has_text="修改密码")).to_have_count(0)  # the directory's
    page.goto(f"{live_server}/reports?period=2024Q3")
    expect(page.locator("h1")).to_contain_text("填报任务")
    page.goto(f"{live_server}/password")
    expect(page.locator("body")).to_contain_text("密码请在目录服务中修改")
