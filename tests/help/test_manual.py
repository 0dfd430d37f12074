"""The user manual (docs/manual.md): every picture it shows exists, is one the browser test
takes (so scripts/manual-screenshots.sh renews it), and is small; no picture lies unused; it
has a chapter for every role."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from tracker.help.queries import ROLE_PAGES

REPO = Path(__file__).resolve().parents[2]
MANUAL = REPO / "docs" / "manual.md"
PICTURES = REPO / "docs" / "manual"
BROWSER_TEST = REPO / "tests" / "browser" / "test_manual_browser.py"
MAX_BYTES = 300 * 1024

CHAPTERS = {
    "liaison": "联络员",
    "coordinator": "督办协调员",
    "viewer": "部门领导",
    "approver": "审核人",
    "admin": "系统管理员",
    "security_admin": "安全管理员",
    "auditor": "审计管理员",
    "county": "县级填报员",
}


def _referenced() -> list[str]:
    return re.findall(r"!\[[^\]]*\]\(manual/([^)]+)\)", MANUAL.read_text(encoding="utf-8"))


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_every_picture_the_manual_shows_exists_and_is_a_small_viewport_png():
    names = _referenced()
    assert len(names) >= 10
    for name in names:
        path = PICTURES / name
        assert path.is_file(), f"docs/manual.md shows manual/{name}, which does not exist"
        assert _png_size(path) == (1280, 800), name
        assert path.stat().st_size <= MAX_BYTES, f"{name}: {path.stat().st_size} bytes"


def test_every_picture_comes_from_the_browser_test_and_is_used():
    taken = set(re.findall(r'shot\("([^"]+)"\)', BROWSER_TEST.read_text(encoding="utf-8")))
    names = set(_referenced())
    assert {Path(n).stem for n in names} <= taken, "pictures no browser test takes"
    on_disk = {p.name for p in PICTURES.glob("*")}
    assert on_disk == names, f"unused pictures: {sorted(on_disk - names)}"


def test_the_manual_has_a_chapter_per_role():
    headings = re.findall(r"^## (.+)$", MANUAL.read_text(encoding="utf-8"), re.M)
    assert {role.value for role in ROLE_PAGES} == set(CHAPTERS)
    for title in CHAPTERS.values():
        assert any(title in heading for heading in headings), title
