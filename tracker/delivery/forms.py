"""Plan forms: milestones and indicators of a delivery plan, approval and return.

A row left entirely empty is ignored; a row partly filled is checked field by field, and
every text field is checked for personal data (:mod:`tracker.privacy`). The form reads the
typed text (numbers, dates, quarters); the plan's rules themselves are the domain's
(:mod:`tracker.delivery.rules`, :func:`tracker.delivery.services.check_plan`), which the JSON
API applies too.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from tracker import privacy
from tracker.catalogue.models import Department
from tracker.delivery.models import Combine, DeliveryPlan, Direction
from tracker.delivery.queries import PLAN_YEARS
from tracker.delivery.rules import (
    AMOUNT_MESSAGE,
    MAX_INDICATORS,
    MAX_MILESTONES,
    MAX_NAME,
    MAX_REASON,
    MAX_TITLE,
    MAX_UNIT,
    NUL,
    parse_amount,
    parse_quarter,
    quarter_choices,
)
from tracker.delivery.services import (
    IndicatorInput,
    MilestoneInput,
    PlanInput,
    indicator_problems,
    milestone_problems,
)
from tracker.forms import ChoiceField
from tracker.periods import Period


def no_personal_data(form: Form, field: Field) -> None:
    """Refuse an ID or mobile number in the text (the number masked in the message)."""
    if field.data and NUL in field.data:
        raise ValidationError(f"{field.label.text}含有无法保存的控制字符。")
    message = privacy.check_text(str(field.label.text), field.data)
    if message:
        raise ValidationError(message)


# The domain's attribute → the form's field of an indicator row.
_INDICATOR_FIELDS = {
    "name": "name",
    "unit": "unit",
    "baseline_value": "baseline_value",
    "target_value": "target_value",
    "target_date": "target_date",
    "department_ids": "departments",
}


class MilestoneForm(Form):
    """One milestone row."""

    key = HiddenField()
    title = StringField(
        "节点内容", validators=[Optional(), Length(max=MAX_TITLE), no_personal_data]
    )
    due_period = ChoiceField("完成季度", choices=[], default="", invalid="请从列表中选择完成季度")
    department = ChoiceField("责任部门", choices=[], default="", invalid="请从列表中选择责任部门")

    @property
    def is_empty(self) -> bool:
        return not ((self.title.data or "").strip() or (self.due_period.data or "").strip())


class IndicatorForm(Form):
    """One indicator row."""

    key = HiddenField()
    name = StringField("指标名称", validators=[Optional(), Length(max=MAX_NAME), no_personal_data])
    unit = StringField("单位", validators=[Optional(), Length(max=MAX_UNIT), no_personal_data])
    direction = ChoiceField(
        "方向", choices=[(d.value, d.label) for d in Direction], default=Direction.HIGHER.value,
        invalid="请从列表中选择方向",
    )  # fmt: skip
    baseline_value = StringField("基线值", validators=[Length(max=30)])
    baseline_date = DateField("基线日期", validators=[Optional()])
    target_value = StringField("目标值", validators=[Length(max=30)])
    target_date = DateField("目标日期", validators=[Optional()])
    combine = ChoiceField(
        "汇总方式", choices=[(c.value, c.label) for c in Combine], default=Combine.SUM.value,
        invalid="请从列表中选择汇总方式",
    )  # fmt: skip
    departments = SelectMultipleField("报送部门", choices=[], coerce=str)

    @property
    def is_empty(self) -> bool:
        return not any(
            (getattr(self, name).data or "").strip()
            for name in ("name", "unit", "baseline_value", "target_value")
        )


def _in_chinese(form: PlanForm) -> None:
    """WTForms' own English messages (a date it cannot read, a choice it does not offer: only a
    hand-made request sends one) in the product's words."""
    for row in form.indicators:
        for field in (row.form.baseline_date, row.form.target_date):
            field.errors = [
                "日期格式应为 YYYY-MM-DD" if "valid" in str(e) else e for e in field.errors
            ]
        departments = row.form.departments
        departments.errors = [
            "请从列表中选择报送部门" if "valid" in str(e) else e for e in departments.errors
        ]


class PlanForm(FlaskForm):
    """A department's delivery plan for one item: milestones, indicators, a change's reason."""

    milestones = FieldList(
        FormField(MilestoneForm), min_entries=MAX_MILESTONES, max_entries=MAX_MILESTONES
    )
    indicators = FieldList(
        FormField(IndicatorForm), min_entries=MAX_INDICATORS, max_entries=MAX_INDICATORS
    )
    change_reason = TextAreaField(
        "变更理由", validators=[Optional(), Length(max=MAX_REASON), no_personal_data]
    )
    submit = SubmitField("提交审核")

    def setup(self, departments: list[Department], start: Period | None, *, changing: bool) -> None:
        """Offer the item's departments; remember the document's first quarter and whether a
        version is in force (then a reason is required)."""
        choices = [(str(d.id), d.name) for d in departments]
        quarters = [("", "请选择"), *((p.key, p.label) for p in quarter_choices(start))]
        for milestone in self.milestones:
            milestone.form.department.choices = [("", "请选择"), *choices]
            milestone.form.due_period.choices = quarters
            if start is not None:
                milestone.form.due_period.invalid = (
                    f"完成季度须在{start.label}（文件的起始季度）至其后 {PLAN_YEARS} 年内，"
                    "请从列表中选择"
                )
        for indicator in self.indicators:
            indicator.form.departments.choices = choices
        self.start = start
        self.changing = changing

    def validate(self, extra_validators: dict[str, Any] | None = None) -> bool:
        ok = bool(super().validate(extra_validators))
        _in_chinese(self)
        for milestone in self.milestones:
            ok = self._check_milestone(milestone.form) and ok
        for indicator in self.indicators:
            ok = self._check_indicator(indicator.form) and ok
        if self.changing and not (self.change_reason.data or "").strip():
            self.change_reason.errors = [
                *self.change_reason.errors,
                "计划已批准，变更须填写变更理由。",
            ]
            ok = False
        if ok and not self.to_input().milestones and not self.to_input().indicators:
            self.form_errors.append("请至少填写一个节点或一个指标。")
            ok = False
        return ok

    def _check_milestone(self, row: MilestoneForm) -> bool:
        """The row's own parsing here; its rules in the domain (:func:`milestone_problems`)."""
        if row.is_empty:
            return True
        ok = not (row.title.errors or row.due_period.errors or row.department.errors)
        if not row.department.data:
            row.department.errors = [*row.department.errors, "请选择责任部门"]
            ok = False
        data = MilestoneInput(row.title.data or "", row.due_period.data or "", 0)
        fields = {"title": row.title, "due_period": row.due_period}
        for name, message in milestone_problems(data, self.start).items():
            if not fields[name].errors:
                fields[name].errors = [*fields[name].errors, message]
            ok = False
        return ok

    def _check_indicator(self, row: IndicatorForm) -> bool:
        """The row's own parsing (numbers, dates) here; its rules in the domain
        (:func:`indicator_problems`), judged on what could be read."""
        if row.is_empty:
            return True
        ok = not any(getattr(row, name).errors for name in _INDICATOR_FIELDS.values())

        def refuse(field: Field, message: str) -> None:
            nonlocal ok
            field.errors = [*field.errors, message]
            ok = False

        baseline = parse_amount(row.baseline_value.data)
        target = parse_amount(row.target_value.data)
        if baseline is None:
            refuse(row.baseline_value, "基线值" + AMOUNT_MESSAGE)
        if target is None:
            refuse(row.target_value, "目标值" + AMOUNT_MESSAGE)
        for field, label in ((row.baseline_date, "基线日期"), (row.target_date, "目标日期")):
            if field.data is None and not field.errors:
                refuse(field, f"请填写{label}（YYYY-MM-DD）")
        direction = row.direction.data if row.direction.data in set(Direction) else None
        data = IndicatorInput(
            name=row.name.data or "", unit=row.unit.data or "",
            direction=Direction(direction or Direction.HIGHER),
            baseline_value=baseline or Decimal(0), baseline_date=row.baseline_date.data or date.min,
            target_value=target or Decimal(0), target_date=row.target_date.data or date.max,
            combine=Combine.SUM, department_ids=[0] if row.departments.data else [],
        )  # fmt: skip
        readable = {
            "target_value": baseline is not None and target is not None and direction,
            "target_date": row.baseline_date.data and row.target_date.data,
        }
        for name, message in indicator_problems(data).items():
            field = getattr(row, _INDICATOR_FIELDS[name])
            if not field.errors and readable.get(name, True):
                refuse(field, message)
        return ok

    def to_input(self) -> PlanInput:
        """The validated, non-empty rows as a :class:`PlanInput`."""
        milestones = [
            MilestoneInput(
                title=(row.form.title.data or "").strip(),
                due_period=parse_quarter(row.form.due_period.data).key,  # type: ignore[union-attr]
                department_id=int(row.form.department.data),
                key=row.form.key.data or None,
            )
            for row in self.milestones
            if not row.form.is_empty
        ]
        indicators = [
            IndicatorInput(
                name=(f.name.data or "").strip(),
                unit=(f.unit.data or "").strip(),
                direction=Direction(f.direction.data),
                baseline_value=parse_amount(f.baseline_value.data),  # type: ignore[arg-type]
                baseline_date=f.baseline_date.data,  # type: ignore[arg-type]
                target_value=parse_amount(f.target_value.data),  # type: ignore[arg-type]
                target_date=f.target_date.data,  # type: ignore[arg-type]
                combine=Combine(f.combine.data),
                department_ids=[int(d) for d in f.departments.data or []],
                key=f.key.data or None,
            )
            for f in (row.form for row in self.indicators)
            if not f.is_empty
        ]
        return PlanInput(milestones, indicators, (self.change_reason.data or "").strip())

    def fill_from(self, plan: DeliveryPlan) -> None:
        """Prefill a GET form from a version (the one waiting, or the one in force)."""
        for row, m in zip(self.milestones, plan.milestones, strict=False):
            row.form.key.data, row.form.title.data = m.key, m.title
            row.form.due_period.data, row.form.department.data = m.due_period, str(m.department_id)
        for entry, i in zip(self.indicators, plan.indicators, strict=False):
            f = entry.form
            f.key.data, f.name.data, f.unit.data = i.key, i.name, i.unit
            f.direction.data, f.combine.data = i.direction.value, i.combine.value
            f.baseline_value.data = format(Decimal(i.baseline_value).normalize(), "f")
            f.target_value.data = format(Decimal(i.target_value).normalize(), "f")
            f.baseline_date.data, f.target_date.data = i.baseline_date, i.target_date
            f.departments.data = [str(d) for d in i.department_ids]
        if plan.pending and plan.change_reason:
            self.change_reason.data = plan.change_reason


class ReturnPlanForm(FlaskForm):
    """Return a proposed plan with a reason."""

    reason = TextAreaField(
        "退回理由",
        validators=[DataRequired("请填写退回理由"), Length(max=MAX_REASON), no_personal_data],
    )
    submit = SubmitField("退回修改")


class ApprovePlanForm(FlaskForm):
    """Approve a proposed plan (the button carries CSRF)."""

    submit = SubmitField("批准")
