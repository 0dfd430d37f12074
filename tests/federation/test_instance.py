"""The instance's level, code and name: checked at start-up, shown on every page."""

from __future__ import annotations

import pytest

from tracker.config import ConfigError, read_settings


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"TRACKER_INSTANCE_LEVEL": "national"}, "TRACKER_INSTANCE_LEVEL"),
        ({"TRACKER_INSTANCE_LEVEL": "provincial", "TRACKER_INSTANCE_CODE": "13000"}, "6 位"),
        ({"TRACKER_INSTANCE_LEVEL": "provincial"}, "不能是 000000"),
        ({"TRACKER_INSTANCE_CODE": "130000"}, "中央实例"),
        ({"TRACKER_INSTANCE_NAME": " "}, "TRACKER_INSTANCE_NAME"),
        ({"TRACKER_UPSTREAM_URL": "ftp://x"}, "TRACKER_UPSTREAM_URL"),
    ],
)
def test_a_wrong_instance_setting_stops_the_start(monkeypatch, env, says):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=says):
        read_settings()


def test_a_province_starts_with_its_code_and_name(monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_LEVEL", "provincial")
    monkeypatch.setenv("TRACKER_INSTANCE_CODE", "130000")
    monkeypatch.setenv("TRACKER_INSTANCE_NAME", "河北省")
    settings = read_settings()
    assert (settings.instance_level, settings.instance_code) == ("provincial", "130000")


def test_the_footer_and_header_name_the_instance(client, seeded, make_user, login, provincial):
    login(make_user("coordinator", "mca"))
    page = client.get("/federation").get_data(as_text=True)
    assert "本实例：河北省（省级，130000）" in page
    assert "任务分工落实跟踪系统 · 河北省" in page
    assert "http://127.0.0.1:9" in page
