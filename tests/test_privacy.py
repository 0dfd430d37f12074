"""The personal-data detector: resident ID numbers by their check digit, mobile numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker import privacy

# The example of GB 11643-1999 (北京市朝阳区, born 1949-12-31): check character X.
VALID_ID = "11010519491231002X"


def test_the_check_character_follows_iso_7064_mod_11_2():
    # Worked by hand: Σ digit × weight = 167; 167 mod 11 = 2; "10X98765432"[2] = "X".
    assert privacy.id_check_character(VALID_ID[:17]) == "X"
    assert privacy.is_resident_id(VALID_ID)
    assert privacy.is_resident_id(VALID_ID.lower())


@pytest.mark.parametrize(
    "candidate",
    [
        "110105194912310021",  # wrong check digit
        "110105194913310027",  # month 13
        "110105194902300023",  # 30 February
        "440524188001010014",  # right check digit, born before 1900
        "11010520991231002X",  # born in the future
        "11010519491231002",  # 17 characters
    ],
)
def test_invalid_numbers_are_not_ids(candidate):
    assert not privacy.is_resident_id(candidate, today=dt.date(2026, 12, 1))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"身份证{VALID_ID}已登记", "身份证号码"),
        (f"证号：{VALID_ID.lower()}。", "身份证号码"),
        ("联系电话13812345678", "手机号码"),
        ("电话 19912345678，周一至周五", "手机号码"),
        ("手机１３８１２３４５６７８", "手机号码"),  # fullwidth digits
    ],
)
def test_found_in_text(text, kind):
    finding = privacy.find_personal_data(text)
    assert finding is not None and finding.kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "110105194912310021",  # an 18-digit figure whose check digit fails
        f"编号9{VALID_ID}",  # embedded in a longer run of digits
        "流水号213812345678",  # a mobile number inside 12 digits
        "138123456789",  # 12 digits
        "12812345678",  # 12x is no mobile prefix
        "已完成摸底排查的县 2800 个，登记 6000000 人",
        "",
        None,
    ],
)
def test_not_found(text):
    assert privacy.find_personal_data(text) is None


def test_the_message_names_the_field_and_masks_the_number():
    message = privacy.check_text("工作进展", "请联系13812345678")
    assert message is not None
    assert "工作进展" in message and "138******78" in message
    assert "13812345678" not in message
    assert privacy.check_text("工作进展", "进展顺利") is None
