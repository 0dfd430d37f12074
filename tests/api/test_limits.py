"""One set of limits: the web form and the API refuse (and keep) the same input."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from tracker.api import contract
from tracker.reports import forms, limits

LONG_NAME = "名" * (limits.MAX_FIGURE_NAME + 1)
LONG_UNIT = "个" * (limits.MAX_FIGURE_UNIT + 1)
LONG_VALUE = "1" + "0" * limits.MAX_FIGURE_TEXT  # 31 characters
WIDE_VALUE = "1" + "0" * 16  # 1e16: beyond Numeric(20, 4)

# (report fields as the API takes them, the same as the web form posts them)
OVER_LIMIT = {
    "narrative": ({"progress": "长" * (limits.MAX_NARRATIVE + 1)}, {}),
    "figure name": ({"figures": [{"name": LONG_NAME, "value": "1"}]}, {"name": LONG_NAME}),
    "figure unit": ({"figures": [{"name": "人次", "value": "1", "unit": LONG_UNIT}]}, {}),
    "figure text": ({"figures": [{"name": "人次", "value": LONG_VALUE}]}, {}),
    "figure range": ({"figures": [{"name": "人次", "value": WIDE_VALUE}]}, {}),
    "full-width comma": ({"figures": [{"name": "人次", "value": "1，200"}]}, {}),
    "exponent": ({"figures": [{"name": "人次", "value": "1e5"}]}, {}),
    "blank figure name": ({"figures": [{"name": "  ", "value": "1"}]}, {}),
}
AT_LIMIT = {
    "narrative": {"progress": "长" * limits.MAX_NARRATIVE},
    "figure": {
        "figures": [
            {
                "name": "名" * limits.MAX_FIGURE_NAME,
                "value": "9" * 16 + ".9999",
                "unit": "个" * limits.MAX_FIGURE_UNIT,
            }
        ]
    },
    "figure with commas": {"figures": [{"name": "人次", "value": "-1,200.5"}]},
}


def _web_form(app, fields: dict) -> forms.ReportForm:
    data = MultiDict()
    for name, value in fields.items():
        if name != "figures":
            data[name] = value
    for i, row in enumerate(fields.get("figures", [])):
        for key in ("name", "value", "unit"):
            data[f"figures-{i}-{key}"] = str(row.get(key, ""))
    with app.test_request_context(method="POST"):
        form = forms.ReportForm(formdata=data, meta={"csrf": False})
        form.validate()
    return form


def _api_accepts(fields: dict) -> bool:
    try:
        contract.ReportCreate.model_validate({"obligation_id": 1, **fields})
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("case", list(OVER_LIMIT))
def test_web_and_api_refuse_the_same_over_limit_input(app, case):
    fields, _ = OVER_LIMIT[case]
    assert _web_form(app, fields).errors, f"the web form took {case}"
    assert not _api_accepts(fields), f"the API took {case}"


@pytest.mark.parametrize("case", list(AT_LIMIT))
def test_web_and_api_keep_the_same_input_at_the_limit(app, case):
    fields = AT_LIMIT[case]
    assert _web_form(app, fields).errors == {}
    assert _api_accepts(fields)


@pytest.mark.parametrize(
    ("form", "model", "field", "extra"),
    [
        (forms.AcceptForm, contract.AcceptRequest, "comment", {"confirmed_status": "completed"}),
        (forms.ReturnForm, contract.ReturnRequest, "reason", {}),
    ],
)
def test_review_texts_share_one_limit(app, form, model, field, extra):
    for length, refused in ((limits.MAX_REVIEW_TEXT, False), (limits.MAX_REVIEW_TEXT + 1, True)):
        data = {field: "理" * length, **extra}
        with app.test_request_context(method="POST"):
            web = form(formdata=MultiDict(data), meta={"csrf": False})
            assert (not web.validate()) is refused, length
        try:
            model.model_validate(data)
        except ValidationError:
            api_refused = True
        else:
            api_refused = False
        assert api_refused is refused, length


def test_the_excel_template_states_the_same_narrative_limit():
    from tracker.exports import template

    assert template.MAX_NARRATIVE == limits.MAX_NARRATIVE
    assert forms.MAX_NARRATIVE == limits.MAX_NARRATIVE
