"""In a real browser: a coordinator, whose role requires a second factor, is made to enrol
after the password (the QR code drawn by the server, the secret for typing), keeps the
recovery codes shown once, signs out, and signs in again with the password and a code the
test computes from the secret the page showed; a recovery code signs in once."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tracker.config import Settings

pytestmark = pytest.mark.browser


def _password(page, live_server, user):
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation(wait_until="load"):
        page.click("button[type=submit]")


def test_a_coordinator_enrols_and_signs_in_with_a_code(
    app, page, live_server, seeded, make_user, sign_out, screenshot, monkeypatch
):
    monkeypatch.setitem(app.config, "TRACKER_TOTP_REQUIRED_ROLES", Settings().totp_required_roles)
    user = make_user("coordinator", "mca", display_name="钱七")
    _password(page, live_server, user)
    expect(page).to_have_url(f"{live_server}/account/second-factor")
    expect(page.locator("#must-enrol")).to_be_visible()
    expect(page.locator("#qr svg")).to_be_visible()
    screenshot("second-factor-enrol")
    page.goto(f"{live_server}/dashboard")  # every other page sends the user back
    expect(page).to_have_url(f"{live_server}/account/second-factor")

    secret = page.locator("#secret").get_attribute("data-secret")
    assert secret
    totp = pyotp.TOTP(secret)
    page.fill("input[name=code]", "12345")
    page.click("#enrol-form button[type=submit]")
    expect(page.locator(".field.has-error")).to_be_visible()
    expect(page.locator("#secret")).to_have_attribute("data-secret", secret)  # same QR code

    page.fill("input[name=code]", totp.now())
    page.click("#enrol-form button[type=submit]")
    codes = page.locator("[data-testid=recovery-code]")
    expect(codes).to_have_count(10)
    recovery = codes.first.inner_text()
    screenshot("second-factor-recovery-codes")
    page.goto(f"{live_server}/dashboard")
    expect(page.locator("h1")).to_contain_text("督办看板")

    sign_out()
    _password(page, live_server, user)
    expect(page).to_have_url(f"{live_server}/login/second-factor")
    page.fill("input[name=code]", "000000")
    page.click("#second-factor-form button[type=submit]")
    expect(page.locator(".field.has-error")).to_be_visible()
    screenshot("second-factor-wrong-code")
    # The enrolment used this time step: the next one is within the accepted window.
    page.fill("input[name=code]", totp.at(time.time() + 30))
    page.click("#second-factor-form button[type=submit]")
    expect(page.locator("header .who")).to_contain_text("钱七")

    sign_out()
    _password(page, live_server, user)
    page.fill("input[name=code]", recovery)
    page.click("#second-factor-form button[type=submit]")
    expect(page.locator("header .who")).to_contain_text("钱七")
    sign_out()
    _password(page, live_server, user)
    page.fill("input[name=code]", recovery)  # used once already
    page.click("#second-factor-form button[type=submit]")
    expect(page.locator(".field.has-error")).to_be_visible()
