"""Rate limits per client address (sign-in form and API) and per user (API), tracker/ratelimit.py.

Each test lowers the limits for itself and starts from empty counters; the rest of the suite
runs with limits too high to meet (tests/conftest.py).
"""

from __future__ import annotations

import re

import pytest

from tracker.config import Settings
from tracker.ratelimit import limiter


@pytest.fixture
def low_limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_RATELIMIT_LOGIN_PER_ADDRESS", "3 per minute")
    monkeypatch.setitem(app.config, "TRACKER_RATELIMIT_API_PER_ADDRESS", "4 per minute")
    monkeypatch.setitem(app.config, "TRACKER_RATELIMIT_API_PER_USER", "3 per minute")
    limiter.reset()
    yield
    limiter.reset()


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_deployed_defaults_limit_sign_in_and_api():
    fields = Settings.model_fields
    assert fields["ratelimit_enabled"].default is True
    assert fields["ratelimit_login_per_address"].default == "60 per minute"
    assert fields["ratelimit_api_per_address"].default == "1200 per minute"
    assert fields["ratelimit_api_per_user"].default == "600 per minute"


def test_bad_limit_setting_is_refused_with_its_name(monkeypatch):
    from tracker.config import ConfigError, read_settings

    monkeypatch.setenv("TRACKER_RATELIMIT_API_PER_USER", "lots")
    with pytest.raises(ConfigError, match="TRACKER_RATELIMIT_API_PER_USER"):
        read_settings()


def test_sign_in_flood_from_one_address_is_refused_keeping_the_username(
    client, seeded, make_user, low_limits
):
    make_user("liaison", "mps", username="flooded")
    for _ in range(3):
        response = client.post(
            "/login", data={"username": "flooded", "password": "wrong"}, **_from("10.1.1.1")
        )
        assert response.status_code == 200
    response = client.post(
        "/login", data={"username": "flooded", "password": "wrong"}, **_from("10.1.1.1")
    )
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "登录请求过于频繁" in page
    username = re.search(r'<input[^>]*name="username"[^>]*>', page)
    assert username and 'value="flooded"' in username.group(0), page  # what was typed, kept
    assert int(response.headers["Retry-After"]) > 0
    # Another address is not held back by the first one's flood.
    other = client.post(
        "/login", data={"username": "flooded", "password": "wrong"}, **_from("10.1.1.2")
    )
    assert other.status_code == 200
    # Reading the form is never limited.
    assert client.get("/login", **_from("10.1.1.1")).status_code == 200


def test_api_per_address_limit_counts_before_the_token(api, app, low_limits):
    anonymous = api(token=None)
    for _ in range(4):
        response = anonymous.request("GET", "/me", environ_base={"REMOTE_ADDR": "10.2.0.1"})
        assert response.status_code == 401
    response = anonymous.request("GET", "/me", environ_base={"REMOTE_ADDR": "10.2.0.1"})
    assert response.status_code == 429
    assert response.get_json()["error"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0


def test_api_per_user_limit_spans_addresses_and_tokens(
    api, seeded, make_user, token_for, low_limits
):
    user = make_user("liaison", "mps")
    first, second = api(token=token_for(user, "系统一")), api(token=token_for(user, "系统二"))
    statuses = [
        (first if n % 2 else second)
        .request("GET", "/me", environ_base={"REMOTE_ADDR": f"10.3.0.{n}"})
        .status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    # Another user is not held back.
    other = api(make_user("liaison", "mps"))
    assert other.request("GET", "/me", environ_base={"REMOTE_ADDR": "10.3.0.9"}).status_code == 200


def test_limits_can_be_turned_off(client, app, seeded, make_user, low_limits, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", False)
    monkeypatch.setattr(limiter, "enabled", False)
    for _ in range(5):
        assert (
            client.post(
                "/login", data={"username": "x", "password": "y"}, **_from("10.4.0.1")
            ).status_code
            == 200
        )
