"""The personal-data guard: resident ID numbers and mobile numbers are refused in any text.

The product holds aggregate counts and officials' work records, never the ledger of
left-behind women itself (data minimisation, 个人信息保护法 articles 6 and 19: collect no more
than the purpose needs, keep it no longer than needed). Names cannot be told from other words
reliably, so this module checks what can be checked:

- an 18-character PRC resident ID number (GB 11643-1999): six digits of area, a valid birth
  date (``YYYYMMDD``, from 1900 to today), three digits of sequence, and a check character
  (``0``-``9`` or ``X``) that the ISO 7064 MOD 11-2 rule computes from the first seventeen;
- a mainland mobile number: ``1[3-9]`` and nine more digits, not part of a longer run of digits
  (``+86`` / ``86`` in front and separators inside are not looked for: a number written so is
  rarer, and guessing at it would refuse ordinary figures).

A run of 18 digits with a wrong check digit or an impossible birth date is not an ID number
(it is more likely a figure or a code), so it is let through; so is an 11-digit run inside a
longer one. Pure functions, no Flask: forms, services and upload checks all call
:func:`find_personal_data` and word their refusal with :func:`refusal`.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

# ISO 7064 MOD 11-2 weights of the first 17 digits, and the check character for each remainder.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# Fullwidth digits and X typed in Chinese input methods count as their ASCII forms.
_FULLWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
_ID_CANDIDATE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9Xx])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
_EARLIEST_BIRTH = _dt.date(1900, 1, 1)


@dataclass(frozen=True)
class Finding:
    """What was found: its kind in words (身份证号码 / 手机号码) and the number, masked."""

    kind: str
    masked: str


def id_check_character(first_seventeen: str) -> str:
    """The MOD 11-2 check character of the first 17 digits of a resident ID number."""
    total = sum(
        int(digit) * weight for digit, weight in zip(first_seventeen, _WEIGHTS, strict=True)
    )
    return _CHECK[total % 11]


def is_resident_id(candidate: str, *, today: _dt.date | None = None) -> bool:
    """Is ``candidate`` (18 characters) a resident ID number: plausible birth date, valid check?"""
    candidate = candidate.translate(_FULLWIDTH).upper()
    if len(candidate) != 18 or not candidate[:17].isdigit():
        return False
    try:
        born = _dt.date(int(candidate[6:10]), int(candidate[10:12]), int(candidate[12:14]))
    except ValueError:
        return False
    if not _EARLIEST_BIRTH <= born <= (today or _dt.date.today()):
        return False
    return id_check_character(candidate[:17]) == candidate[17]


def mask(number: str) -> str:
    """Keep the first three and the last two characters: ``138******78``."""
    return number[:3] + "*" * (len(number) - 5) + number[-2:]


def find_personal_data(text: str | None) -> Finding | None:
    """The first resident ID or mobile number in ``text``, or None."""
    if not text:
        return None
    normalised = text.translate(_FULLWIDTH)
    for match in _ID_CANDIDATE.finditer(normalised):
        if is_resident_id(match.group()):
            return Finding("身份证号码", mask(match.group()))
    mobile = _MOBILE.search(normalised)
    if mobile is not None:
        return Finding("手机号码", mask(mobile.group()))
    return None


def refusal(label: str, finding: Finding) -> str:
    """The message shown beside the field (the number masked), in the product's words."""
    return (
        f"“{label}”中含有疑似{finding.kind}（{finding.masked}）。本系统只收集汇总数据，"
        "不得填写个人身份信息，请删除后再保存。"
    )


def check_text(label: str, text: str | None) -> str | None:
    """The refusal for ``text`` under ``label``, or None when it holds no personal data."""
    finding = find_personal_data(text)
    return refusal(label, finding) if finding else None
