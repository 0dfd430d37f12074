"""The shared form pieces of tracker.forms."""

from __future__ import annotations

import pytest
from wtforms import Form, SelectField

from tracker.forms import QuickSelect

CHOICES = [
    ("", "全部文件"),
    ("1", "民发〔2019〕86号"),
    ("2", '<script>alert("x")</script> & 〔2020〕'),
    ("a\"b'<c>", "值里有引号"),
    (7, "整数值"),
    ("empty-label", ""),
]


class _Plain(Form):
    field = SelectField(choices=CHOICES)


class _Quick(Form):
    field = SelectField(choices=CHOICES, widget=QuickSelect())


@pytest.mark.parametrize("chosen", ["", "1", "2", "a\"b'<c>", "7", "empty-label", "none-such"])
def test_the_quick_drop_down_writes_what_wtforms_writes(chosen):
    plain, quick = _Plain(), _Quick()
    plain.field.data = quick.field.data = chosen
    assert str(quick.field()) == str(plain.field())
    assert str(quick.field(class_="wide")) == str(plain.field(class_="wide"))


def test_the_quick_drop_down_escapes_labels_and_values():
    quick = _Quick()
    quick.field.data = "2"
    html = str(quick.field())
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'value="a&#34;b&#39;&lt;c&gt;"' in html
    assert '<option selected value="2">' in html


def test_options_with_their_own_attributes_go_the_usual_way():
    class WithAttrs(Form):
        field = SelectField(
            choices=[("1", "一", {"disabled": True}), ("2", "二")], widget=QuickSelect()
        )

    class Plain(Form):
        field = SelectField(choices=[("1", "一", {"disabled": True}), ("2", "二")])

    assert str(WithAttrs().field()) == str(Plain().field())
    assert "disabled" in str(WithAttrs().field())
