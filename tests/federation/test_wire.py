"""The wire contract: canonical bytes, signatures, the replay window, the export revision."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tracker.federation import wire


def test_canonical_bytes_sort_keys_and_keep_chinese():
    assert wire.canonical({"b": 1, "a": "河北"}) == '{"a":"河北","b":1}'.encode()


def test_a_signature_verifies_and_any_change_breaks_it():
    token = "fed_abcd_secret"
    body = wire.canonical({"x": 1})
    headers = wire.signed_headers(token, "130000", body, 1_800_000_000)
    key = wire.token_digest(token)
    ts, sig = headers[wire.TIMESTAMP_HEADER], headers[wire.SIGNATURE_HEADER]
    assert wire.check_signature(key, ts, sig, body, 1_800_000_100) is None
    assert "签名不符" in wire.check_signature(key, ts, sig, body + b" ", 1_800_000_100)
    assert "签名不符" in wire.check_signature(
        wire.token_digest("other"), ts, sig, body, 1_800_000_000
    )
    assert "300" in wire.check_signature(key, ts, sig, body, 1_800_000_301)
    assert "300" in wire.check_signature(key, ts, sig, body, 1_799_999_699)
    assert wire.check_signature(key, None, sig, body, 1_800_000_000)


def test_the_export_revision_ignores_only_its_time(centre):
    export = dict(centre)
    assert wire.export_revision(export) == export["revision"]
    later = {**export, "exported_at": "2030-01-01T00:00:00+00:00"}
    assert wire.export_revision(later) == export["revision"]
    changed = {**export, "items": export["items"][:-1]}
    assert wire.export_revision(changed) != export["revision"]
    assert wire.DocumentExport.model_validate(export).revision_matches()


def test_the_export_carries_items_assignments_and_plans_with_keys(centre):
    assert centre["format"] == "tracker.document/1"
    assert centre["source"] == {"code": "000000", "name": "中央", "level": "central"}
    assert [i["number"] for i in centre["items"]] == list(range(1, 24))
    item23 = centre["items"][22]
    assert {"department_code": "mca", "role": "lead"} in item23["assignments"]
    (plan,) = centre["plans"]
    assert plan["item_number"] == 23 and plan["department_code"] == "mca"
    assert [m["key"] for m in plan["milestones"]] == ["m-ledger"]
    assert len(plan["indicators"]) == 5
    assert plan["indicators"][0]["combine"] == "sum"
    assert plan["indicators"][0]["target_value"] == "2800"


@pytest.mark.parametrize("value", ["-1", "1e5", "１２", "1.23456", "1,000", ""])
def test_indicator_values_are_plain_decimal_strings(value):
    with pytest.raises(ValidationError):
        wire.IndicatorReport(key="k", value=value)


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError):
        wire.MilestoneReport(key="k", status="done", note="", extra=1)  # type: ignore[call-arg]
