"""Report, review and evidence forms (Chinese labels; validation lives here)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from tracker.reports.models import ProgressStatus
from tracker.reports.services import NARRATIVE_FIELDS, ReportInput

MAX_NARRATIVE = 5000
MAX_FIGURES = 5
STATUS_CHOICES = [(s.value, s.label) for s in ProgressStatus]


class FigureForm(Form):
    """One key figure row; an entirely empty row is ignored."""

    name = StringField("指标名称", validators=[Optional(), Length(max=100)])
    # No Optional() here: it would stop the chain on an empty value, and a row with a name or
    # a unit but no number would pass unchecked.
    value = StringField("数值", validators=[Length(max=30)])
    unit = StringField("单位", validators=[Optional(), Length(max=20)])

    def validate_value(self, field):
        if self.is_empty:
            return
        if not self.name.data:
            raise ValidationError("请填写指标名称")
        parsed = parse_number(field.data)
        if parsed is None:
            raise ValidationError("数值应为数字，如 1200 或 35.5")

    @property
    def is_empty(self) -> bool:
        return not (self.name.data or self.value.data or self.unit.data)

    def figure(self) -> tuple[str, Decimal, str]:
        """The validated, non-empty row as (name, value, unit)."""
        value = parse_number(self.value.data)
        assert self.name.data and value is not None  # validate_value refused anything else
        return self.name.data, value, self.unit.data or ""


def parse_number(text: str | None) -> Decimal | None:
    """A finite number within the column's range, commas allowed (1,200)."""
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", "").replace("，", "").strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) >= Decimal("1e16"):
        return None
    return value


def _narrative(label: str) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[Length(max=MAX_NARRATIVE, message=f"{label}不能超过 {MAX_NARRATIVE} 字")],
    )


class ReportForm(FlaskForm):
    """The quarterly report of one department on one item."""

    status = SelectField("自评状态", choices=[("", "请选择"), *STATUS_CHOICES], default="")
    progress = _narrative("工作进展")
    problems = _narrative("存在的困难和问题")
    practices = _narrative("经验做法")
    suggestions = _narrative("工作建议")
    next_steps = _narrative("下一步计划")
    figures = FieldList(FormField(FigureForm), min_entries=MAX_FIGURES, max_entries=MAX_FIGURES)
    version = HiddenField()
    save = SubmitField("保存草稿")
    save_and_submit = SubmitField("保存并报送")

    def validate_version(self, field):
        if field.data and not field.data.isdigit():
            raise ValidationError("版本号无效，请刷新页面")

    @property
    def expected_version(self) -> int | None:
        return int(self.version.data) if self.version.data else None

    def to_input(self) -> ReportInput:
        status = ProgressStatus(self.status.data) if self.status.data else None
        figures = [row.form.figure() for row in self.figures if not row.form.is_empty]
        return ReportInput(
            status=status,
            figures=figures,
            **{name: getattr(self, name).data or "" for name in NARRATIVE_FIELDS},
        )

    def fill_from(self, report) -> None:
        """Prefill a GET form from the stored report."""
        self.status.data = report.status.value if report.status else ""
        for name in NARRATIVE_FIELDS:
            getattr(self, name).data = getattr(report, name)
        for row, figure in zip(self.figures, report.figures, strict=False):
            row.form.name.data = figure.name
            row.form.value.data = format(figure.value.normalize(), "f")
            row.form.unit.data = figure.unit
        self.version.data = str(report.version)


class AcceptForm(FlaskForm):
    """Accept a submitted report, confirming its status."""

    confirmed_status = SelectField(
        "核定状态", choices=STATUS_CHOICES, validators=[DataRequired("请选择核定状态")]
    )
    comment = TextAreaField("审核意见", validators=[Length(max=2000)])
    submit = SubmitField("审核通过")


class ReturnForm(FlaskForm):
    """Return a submitted report with a reason."""

    reason = TextAreaField(
        "退回理由", validators=[DataRequired("请填写退回理由"), Length(max=2000)]
    )
    confirmed_status = SelectField(
        "核定状态", choices=[("", "暂不核定"), *STATUS_CHOICES], default=""
    )
    submit = SubmitField("退回修改")


class WaiveForm(FlaskForm):
    """Waive a supporting department's input for one period."""

    reason = TextAreaField(
        "豁免理由", validators=[DataRequired("请填写豁免理由"), Length(max=2000)]
    )
    submit = SubmitField("豁免本期材料")


class EvidenceForm(FlaskForm):
    """Upload one evidence file."""

    file = FileField("佐证材料", validators=[FileRequired("请选择文件")])
    submit = SubmitField("上传")
