"""The auditor's filter form: a GET form (it changes nothing, so it carries no CSRF token)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import cast

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import ValidationError

from tracker import clock
from tracker.audit.models import Outcome
from tracker.audit.queries import TrailFilter, actor_id_named
from tracker.forms import ChoiceField

# Offered in the action field's suggestions: the security events an auditor looks for most.
SUGGESTED_ACTIONS = (
    "user.login", "user.lock", "login.address_lock", "user.unlock", "access.refused",
    "evidence.download", "export.download", "user.create", "user.edit", "user.reset_password",
    "user.end_access", "second_factor.failed", "session.end", "token.create", "token.revoke",
)  # fmt: skip
OUTCOME_LABELS = {Outcome.SUCCESS: "成功", Outcome.FAILURE: "失败", Outcome.REFUSED: "拒绝"}


def _strip(value: str | None) -> str:
    return (value or "").strip()


def _date(text: str | None, label: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{label}应为日期，如 2026-12-01（现为“{text[:20]}”）。") from None


class TrailFilterForm(FlaskForm):
    """Time from/to (Beijing dates, both included), actor's username, department, action,
    outcome. Text fields, not date pickers only, so that wrong input is kept and named."""

    class Meta:
        csrf = False

    start = StringField("起始日期", filters=[_strip], description="北京时间，含当日")
    end = StringField("截止日期", filters=[_strip], description="北京时间，含当日")
    actor = StringField("操作人（用户名）", filters=[_strip])
    department = SelectField("部门", choices=[], default="", validate_choice=False)
    # Not ``action``: a field of that name would hide the form's own ``action`` in the DOM.
    operation = StringField(
        "操作", filters=[_strip], description="如 user.login（完整名称，可从下拉提示中选）"
    )
    outcome = ChoiceField(
        "结果",
        invalid="请从列表中选择结果。",
        choices=[("", "全部"), *((o.value, label) for o, label in OUTCOME_LABELS.items())],
        default="",
    )

    def fill(self, departments: list[tuple[int, str]]) -> None:
        """The department menu."""
        self.department.choices = [("", "全部部门")] + [(str(i), n) for i, n in departments]

    def validate_start(self, field: StringField) -> None:
        _date(field.data, "起始日期")

    def validate_end(self, field: StringField) -> None:
        end = _date(field.data, "截止日期")
        try:
            start = _date(self.start.data, "起始日期")
        except ValidationError:
            return  # said beside the start date
        if start and end and end < start:
            raise ValidationError("截止日期不能早于起始日期。")

    def validate_actor(self, field: StringField) -> None:
        if field.data and len(field.data) > 64:
            raise ValidationError("用户名最多 64 个字符。")
        if field.data and actor_id_named(field.data) is None:
            raise ValidationError(f"没有用户名为“{field.data}”的账号。")

    def validate_department(self, field: SelectField) -> None:
        choices = cast(list[tuple[str, str]], field.choices)  # set by fill()
        known = {value for value, _ in choices}
        if field.data not in known:
            raise ValidationError("请从列表中选择部门。")

    def validate_operation(self, field: StringField) -> None:
        text = field.data or ""
        if len(text) > 64:
            raise ValidationError("操作名称最多 64 个字符。")
        if text and not all(ch.isascii() and (ch.isalnum() or ch in "._") for ch in text):
            raise ValidationError("操作名称只含字母、数字、点和下划线，如 user.login。")

    def to_filter(self) -> TrailFilter:
        """The validated input as query filters (dates to UTC moments)."""
        start, end = _date(self.start.data, ""), _date(self.end.data, "")
        return TrailFilter(
            start=_moment(start) if start else None,
            end=_moment(end + timedelta(days=1)) if end else None,
            actor_id=actor_id_named(self.actor.data) if self.actor.data else None,
            department_id=int(self.department.data) if self.department.data else None,
            action=self.operation.data or None,
            outcome=Outcome(self.outcome.data) if self.outcome.data else None,
        )

    def filter_args(self) -> dict[str, str]:
        """The filters as query arguments, for the next page's and the export's links."""
        fields = (self.start, self.end, self.actor, self.department, self.operation, self.outcome)
        return {f.name: f.data for f in fields if f.data}


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=clock.zone())
