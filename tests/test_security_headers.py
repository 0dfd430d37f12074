"""Every route of the url map answers with the security headers, whoever asks and whatever the
answer (a page, a redirect to sign-in, 403, 404, a CSRF refusal, JSON); HSTS only over HTTPS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _url(rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__.lower()
        if "int" in converter or name.endswith("_id"):
            values[name] = 1
        elif name in {"period", "period_key"}:
            values[name] = "2026Q3"
        elif name == "filename":
            values[name] = "css/app.css"
        else:
            values[name] = "x"
    return rule.build(values, append_unknown=False)[1]


def _requests(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        yield rule.endpoint, method, _url(rule)


def _check(response, endpoint, hsts: bool) -> list[str]:
    problems = [
        f"{endpoint} {response.status_code}: {name}"
        for name, part in HEADERS.items()
        if part not in response.headers.get(name, "")
    ]
    if hsts != ("Strict-Transport-Security" in response.headers):
        problems.append(f"{endpoint} {response.status_code}: HSTS {'missing' if hsts else 'sent'}")
    return problems


@pytest.mark.parametrize("who", ["anonymous", "admin", "liaison"])
def test_every_route_sends_the_security_headers(app, seeded, make_user, login, client, who):
    if who != "anonymous":
        login(make_user(who, "mps" if who == "liaison" else None))
    problems = []
    for endpoint, method, url in _requests(app):
        response = client.open(url, method=method, csrf=False)
        problems += _check(response, endpoint, hsts=False)
    assert problems == []


def test_hsts_over_https_on_every_route(app, seeded, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    client = app.test_client()
    problems = []
    for endpoint, method, url in _requests(app):
        response = client.open(url, method=method, base_url="https://localhost", csrf=False)
        problems += _check(response, endpoint, hsts=True)
        if "Strict-Transport-Security" in response.headers:
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert problems == []


def test_hsts_can_be_turned_off(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    monkeypatch.setitem(app.config, "TRACKER_HSTS_MAX_AGE_SECONDS", 0)
    assert "Strict-Transport-Security" not in client.get("/login").headers


TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
INLINE = re.compile(
    r"<style\b|\sstyle\s*=|<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I
)


def test_no_template_needs_inline_style_or_script():
    """The policy allows styles and scripts from the app's own files only ('self'): an inline
    ``<style>``, ``style=`` attribute or script block would be blocked by the browser."""
    found = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INLINE.search(line)
    ]
    assert not found, found
