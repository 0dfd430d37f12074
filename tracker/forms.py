"""Forms shared across domains, and how a refused form is marked on its page."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import Field, SelectField
from wtforms.form import BaseForm
from wtforms.validators import ValidationError
from wtforms.widgets import Select


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST-only buttons."""


_OPTION = Markup('<option value="{}">{}</option>')
_SELECTED = Markup('<option selected value="{}">{}</option>')


class QuickSelect(Select):
    """WTForms' drop-down with its plain options written directly: the same markup, without
    building a dict of attributes per option (a filter of 200 documents took 2.4 ms to
    render through ``html_params``). Options with their own attributes go the usual way."""

    @classmethod
    # WTForms 3.3 passes one SelectChoice; the type stubs still describe the older signature.
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:  # type: ignore[override]
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        # Markup.format escapes the value and the label.
        return (_SELECTED if choice.selected else _OPTION).format(
            choice.value, choice.label or choice.value
        )


class ChoiceField(SelectField):
    """A drop-down that refuses a value it does not offer in the user's words, not WTForms'
    English "Not a valid choice" (a browser sends such a value only from a tampered form)."""

    def __init__(self, label: str | None = None, *, invalid: str, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.invalid = invalid

    def pre_validate(self, form: BaseForm) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(self.invalid) from None


def _take_focus() -> bool:
    """True the first time in a request: the page's first error is the one that gets focus."""
    if g.get("error_focus_given"):
        return False
    g.error_focus_given = True
    return True


def error_attrs(field: Field) -> dict[str, Any]:
    """HTML attributes for a field with errors (the ``field`` macro of ``_macros.html``).

    The input is marked invalid and described by its error message (read out with it), and
    the page's first such input has ``autofocus``: the browser focuses it and scrolls it into
    view when the refused page loads, without a script.
    """
    if not field.errors:
        return {}
    attrs: dict[str, Any] = {"aria_invalid": "true", "aria_describedby": f"{field.id}-error"}
    if _take_focus():
        attrs["autofocus"] = True
    return attrs


def form_error_attrs() -> dict[str, Any]:
    """Attributes for a form's own message (not beside one field): focusable, focused first."""
    attrs: dict[str, Any] = {"tabindex": "-1"}
    if _take_focus():
        attrs["autofocus"] = True
    return attrs
