"""Forms of the notifications pages: one's preferences, and marking a kind read."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField
from wtforms.validators import ValidationError

from tracker.notifications.models import MailMode, NotificationKind

IN_APP, WITH_EMAIL = "app", "email"
CHANNELS = [(IN_APP, "仅站内通知"), (WITH_EMAIL, "站内通知并发送邮件")]


def kind_field_name(kind: NotificationKind) -> str:
    """The form field of one kind's channel (``kind_reminder``)."""
    return f"kind_{kind.value}"


class MarkAllReadForm(FlaskForm):
    """“全部标为已读”: every unread notification, or those of one kind."""

    kind = HiddenField()

    def validate_kind(self, field: Field) -> None:
        if field.data and field.data not in {kind.value for kind in NotificationKind}:
            raise ValidationError("未知的通知类型，未做任何修改。")

    @property
    def chosen_kind(self) -> NotificationKind | None:
        return NotificationKind(self.kind.data) if self.kind.data else None


class PreferencesForm(FlaskForm):
    """Per kind: in the app only, or also by e-mail; and mail each time or in a daily digest.

    One radio field per :class:`NotificationKind` is added below the class. The choices are
    checked here, with Chinese messages, instead of by WTForms' own English one.
    """

    mode = RadioField(
        "邮件发送方式",
        choices=[(MailMode.EACH.value, "每次发送"), (MailMode.DIGEST.value, "每日汇总")],
        validate_choice=False,
    )

    def validate_mode(self, field: Field) -> None:
        if field.data not in {mode.value for mode in MailMode}:
            raise ValidationError("请选择邮件发送方式：每次发送或每日汇总。")

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        for kind in NotificationKind:
            field = self[kind_field_name(kind)]
            if field.data not in {IN_APP, WITH_EMAIL}:
                field.errors = [*field.errors, f"请为“{kind.label}”选择仅站内通知或同时发送邮件。"]
                valid = False
        return valid

    def kind_fields(self) -> list[tuple[NotificationKind, Field]]:
        """Each kind with its field, in the order of :class:`NotificationKind`."""
        return [(kind, self[kind_field_name(kind)]) for kind in NotificationKind]

    def emails(self) -> dict[NotificationKind, bool]:
        """The submitted choice per kind (after validation)."""
        return {kind: field.data == WITH_EMAIL for kind, field in self.kind_fields()}

    def fill(self, emails: dict[NotificationKind, bool], mode: MailMode) -> None:
        """Show the stored choices (on GET)."""
        for kind, field in self.kind_fields():
            field.data = WITH_EMAIL if emails[kind] else IN_APP
        self.mode.data = mode.value


for _kind in NotificationKind:
    setattr(
        PreferencesForm,
        kind_field_name(_kind),
        RadioField(_kind.label, choices=CHANNELS, validate_choice=False),
    )
