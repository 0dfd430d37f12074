"""Which instance this is: its level of government, its administrative division code and name.

The same software runs at every level (docs/federation.md): the centre (民政部), each province
and, below it, prefectures and counties. ``TRACKER_INSTANCE_LEVEL``, ``TRACKER_INSTANCE_CODE``
and ``TRACKER_INSTANCE_NAME`` say which one this is; ``TRACKER_UPSTREAM_URL`` and
``TRACKER_UPSTREAM_TOKEN`` say where the level above is and how to sign what goes up to it.
They are checked when the settings are read, so that a wrong value stops the start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import current_app

LEVELS: dict[str, str] = {
    "central": "中央",
    "provincial": "省级",
    "prefectural": "地市级",
    "county": "县级",
}
CENTRAL_CODE = "000000"

# The levels an instance registers as members and receives roll-ups from: reporting goes up
# one level at a time, each level consolidating its own before sending it on (最多报一次), so the
# centre hears from the provinces (and the 兵团) only, a province from its prefectures and
# counties, a prefecture from its counties; a county has no instance below it.
MEMBER_LEVELS: dict[str, tuple[str, ...]] = {
    "central": ("provincial",),
    "provincial": ("prefectural", "county"),
    "prefectural": ("county",),
    "county": (),
}


def is_above(upper: str, lower: str) -> bool:
    """Whether level ``upper`` is above level ``lower`` (central > provincial > …)."""
    order = list(LEVELS)
    return order.index(upper) < order.index(lower)


CODE_PATTERN = re.compile(r"^[0-9]{6}$")


def check(level: str, code: str, name: str, upstream_url: str) -> None:
    """``ValueError`` with a message in Chinese when the instance's settings do not fit."""
    if level not in LEVELS:
        raise ValueError(
            f"TRACKER_INSTANCE_LEVEL 应为 {'、'.join(LEVELS)} 之一"
            f"（{'、'.join(LEVELS.values())}），实际为 {level!r}"
        )
    if not CODE_PATTERN.match(code):
        raise ValueError(
            f"TRACKER_INSTANCE_CODE 应为 6 位行政区划代码（如 130000），实际为 {code!r}"
        )
    if level == "central" and code != CENTRAL_CODE:
        raise ValueError(f"中央实例的 TRACKER_INSTANCE_CODE 应为 {CENTRAL_CODE}，实际为 {code!r}")
    if level != "central" and code == CENTRAL_CODE:
        raise ValueError(
            f"{LEVELS[level]}实例须设置本地的行政区划代码 TRACKER_INSTANCE_CODE"
            f"（不能是 {CENTRAL_CODE}）"
        )
    if not name.strip() or len(name.strip()) > 64:
        raise ValueError("TRACKER_INSTANCE_NAME 不能为空，且不超过 64 个字符")
    if upstream_url and not re.match(r"^https?://[^\s/]+", upstream_url):
        raise ValueError(
            "TRACKER_UPSTREAM_URL 应以 http:// 或 https:// 开头（上级实例的地址），"
            f"实际为 {upstream_url!r}"
        )


@dataclass(frozen=True)
class Instance:
    """This installation: level, code, name, and the level above (if any)."""

    level: str
    code: str
    name: str
    upstream_url: str = ""

    @property
    def level_label(self) -> str:
        return LEVELS[self.level]

    @property
    def central(self) -> bool:
        return self.level == "central"

    @property
    def member_levels(self) -> tuple[str, ...]:
        """The levels this instance registers members of (none at a county)."""
        return MEMBER_LEVELS[self.level]

    @property
    def member_levels_text(self) -> str:
        """``省级``, ``地市级或县级``: the member levels in words."""
        return "或".join(LEVELS[level] for level in self.member_levels)

    @property
    def member_refusal(self) -> str:
        """Why a member of another level is refused here (the form's and the service's)."""
        if not self.member_levels:
            return f"{self.level_label}实例没有下级实例，不能登记。"
        return (
            f"{self.level_label}实例只能登记{self.member_levels_text}实例"
            "（逐级上报：下级向直接上级报送）。"
        )

    @property
    def label(self) -> str:
        """``河北省（省级，130000）``."""
        return f"{self.name}（{self.level_label}，{self.code}）"

    def wire(self) -> dict[str, str]:
        """How the instance names itself in what it sends (tracker.federation.wire)."""
        return {"code": self.code, "name": self.name, "level": self.level}


def from_config(config: Any) -> Instance:
    return Instance(
        level=config["TRACKER_INSTANCE_LEVEL"],
        code=config["TRACKER_INSTANCE_CODE"],
        name=config["TRACKER_INSTANCE_NAME"],
        upstream_url=(config["TRACKER_UPSTREAM_URL"] or "").rstrip("/"),
    )


def current() -> Instance:
    """The instance the running app is."""
    return from_config(current_app.config)
