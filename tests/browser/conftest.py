"""A live server on 127.0.0.1 and headless Chromium driven by Playwright.

Locally the browser tests skip when Chromium is absent; under CI (``CI=true``) a missing
browser fails the run instead, so a green CI always means the browser tests ran.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import db_backend

CHROMIUM = os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _browser_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


@pytest.fixture(scope="session")
def browser():
    if not _browser_available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}; CI must run the browser tests")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright import sync_api  # a test dependency: its absence is an error, not a skip

    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def live_server(app):
    """Serve the test app on a free loopback port for the duration of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(app, page):
    """``screenshot("name")`` saves a full-page PNG under test-artifacts/<backend>/.

    One folder per database backend, so that the SQLite and PostgreSQL passes, which may run
    at the same time, never write the same file.
    """
    folder = ARTIFACTS / db_backend(app)

    def take(name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def sign_in(page, live_server):
    from tests.conftest import PASSWORD

    def do(user):
        page.goto(f"{live_server}/login")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", PASSWORD)
        # Wait for the page the form leads to, not for 500 ms without network traffic.
        with page.expect_navigation(wait_until="load"):
            page.click("button[type=submit]")

    return do


@pytest.fixture
def sign_out(page):
    """``sign_out()`` ends the browser's session from the page's own button."""

    def do() -> None:
        page.click("form[action='/logout'] button")
        page.wait_for_url("**/login")

    return do
