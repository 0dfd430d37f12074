"""Report, review and evidence forms (Chinese labels; validation lives here)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from tracker import privacy
from tracker.catalogue.models import Department, PolicyDocument, Role
from tracker.delivery.models import Indicator, Milestone
from tracker.delivery.rules import parse_amount
from tracker.forms import ChoiceField
from tracker.periods import Period
from tracker.reports.hints import STATUS_HINT
from tracker.reports.labels import FIELD_LABELS
from tracker.reports.limits import (
    MAX_FIGURE_NAME,
    MAX_FIGURE_TEXT,
    MAX_FIGURE_UNIT,
    MAX_FIGURES,
    MAX_MILESTONE_NOTE,
    MAX_NARRATIVE,
    MAX_REVIEW_TEXT,
    NUL,
    NUL_MESSAGE,
    figure_from_text,
    normalise_optional,
)
from tracker.reports.models import (
    MilestoneProgress,
    Obligation,
    ProgressStatus,
    Report,
    ReportState,
)
from tracker.reports.queries import ReviewFilter
from tracker.reports.services import (
    MILESTONE_NOTE_REQUIRED,
    NARRATIVE_FIELDS,
    ReportInput,
    planned,
)

STATUS_CHOICES = [(s.value, s.label) for s in ProgressStatus]
# Free text is stored as the template and the API give it back: LF line breaks, no trailing
# white space (a browser sends CRLF, which made an untouched template look changed).
TEXT_FILTERS = [normalise_optional]


def no_nul(form: Form, field: Field) -> None:
    """Refuse text holding NUL, which the database cannot store (the API refuses it too)."""
    if field.data and NUL in field.data:
        raise ValidationError(f"{field.label.text}{NUL_MESSAGE}")


def no_personal_data(form: Form, field: Field) -> None:
    """Refuse a resident ID or mobile number (:mod:`tracker.privacy`), the number masked."""
    message = privacy.check_text(str(field.label.text), field.data)
    if message:
        raise ValidationError(message)


class FigureForm(Form):
    """One key figure row; an entirely empty row is ignored."""

    name = StringField(
        "指标名称", validators=[Optional(), Length(max=MAX_FIGURE_NAME), no_nul, no_personal_data]
    )
    # No Optional() here: it would stop the chain on an empty value, and a row with a name or
    # a unit but no number would pass unchecked.
    value = StringField("数值", validators=[Length(max=MAX_FIGURE_TEXT)])
    unit = StringField(
        "单位", validators=[Optional(), Length(max=MAX_FIGURE_UNIT), no_nul, no_personal_data]
    )

    def validate_value(self, field: Field) -> None:
        if self.is_empty:
            return
        if not (self.name.data or "").strip():
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
    """A figure typed into the page (surrounding spaces ignored), by the rules of
    :func:`tracker.reports.limits.figure_from_text`; None when empty or invalid."""
    if not text:
        return None
    return figure_from_text(text.strip())


def _narrative(label: str) -> TextAreaField:
    return TextAreaField(
        label,
        filters=TEXT_FILTERS,
        validators=[
            Length(max=MAX_NARRATIVE, message=f"{label}不能超过 {MAX_NARRATIVE} 字"),
            no_nul,
            no_personal_data,
        ],
    )


class ReportForm(FlaskForm):
    """The quarterly report of one department on one item."""

    status = ChoiceField(
        FIELD_LABELS["status"],
        choices=[("", "请选择"), *STATUS_CHOICES],
        default="",
        invalid="请从列表中选择自评状态。",
        description=STATUS_HINT,
    )
    progress = _narrative(FIELD_LABELS["progress"])
    problems = _narrative(FIELD_LABELS["problems"])
    practices = _narrative(FIELD_LABELS["practices"])
    suggestions = _narrative(FIELD_LABELS["suggestions"])
    next_steps = _narrative(FIELD_LABELS["next_steps"])
    figures = FieldList(FormField(FigureForm), min_entries=MAX_FIGURES, max_entries=MAX_FIGURES)
    version = HiddenField()
    save = SubmitField("保存草稿")
    save_and_submit = SubmitField("保存并报送")

    def validate_version(self, field: Field) -> None:
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
            indicator_values={
                i.key: value
                for i in self.planned_indicators
                if (value := parse_amount(getattr(self, indicator_field(i)).data)) is not None
            },
            milestone_statuses={
                m.key: (
                    MilestoneProgress(getattr(self, milestone_field(m)).data),
                    getattr(self, milestone_note_field(m)).data or "",
                )
                for m in self.planned_milestones
                if getattr(self, milestone_field(m)).data
            },
        )

    # The plan's indicators and milestones of this obligation; report_form_for() sets them.
    planned_indicators: list[Indicator] = []  # noqa: RUF012 - replaced per instance
    planned_milestones: list[Milestone] = []  # noqa: RUF012 - replaced per instance

    def validate(self, extra_validators: dict[str, Any] | None = None) -> bool:
        ok = bool(super().validate(extra_validators))
        for i in self.planned_indicators:
            field = getattr(self, indicator_field(i))
            text = (field.data or "").strip()
            if text and parse_amount(text) is None:
                field.errors = [
                    *field.errors,
                    f"应为不小于 0 的数字（单位：{i.unit}，最多 4 位小数），如 1200 或 35.5",
                ]
                ok = False
        for m in self.planned_milestones:
            progress = getattr(self, milestone_field(m)).data
            note = getattr(self, milestone_note_field(m))
            done = progress == MilestoneProgress.DONE.value
            if progress and not done and not (note.data or "").strip():
                note.errors = [*note.errors, MILESTONE_NOTE_REQUIRED]
                ok = False
        return ok

    def fill_from(self, report: Report) -> None:
        """Prefill a GET form from the stored report."""
        self.status.data = report.status.value if report.status else ""
        for name in NARRATIVE_FIELDS:
            getattr(self, name).data = getattr(report, name)
        for row, figure in zip(self.figures, report.figures, strict=False):
            row.form.name.data = figure.name
            row.form.value.data = format(figure.value.normalize(), "f")
            row.form.unit.data = figure.unit
        values = {row.indicator_key: row.value for row in report.indicator_values}
        for i in self.planned_indicators:
            if i.key in values:
                getattr(self, indicator_field(i)).data = format(values[i.key].normalize(), "f")
        statuses = {row.milestone_key: row for row in report.milestone_statuses}
        for m in self.planned_milestones:
            if m.key in statuses:
                getattr(self, milestone_field(m)).data = statuses[m.key].progress.value
                getattr(self, milestone_note_field(m)).data = statuses[m.key].note
        self.version.data = str(report.version)


def indicator_field(indicator: Indicator) -> str:
    """The report form's field of a plan indicator (its key, constant across versions)."""
    return f"indicator_{indicator.key}"


def milestone_field(milestone: Milestone) -> str:
    return f"milestone_{milestone.key}"


def milestone_note_field(milestone: Milestone) -> str:
    return f"milestone_{milestone.key}_note"


MILESTONE_CHOICES = [("", "请选择"), *[(p.value, p.label) for p in MilestoneProgress]]


def report_form_for(obligation: Obligation) -> ReportForm:
    """The report form of one obligation: the fixed fields, and a typed number field for each
    plan indicator the department reports (its unit beside it) and a status with a sentence
    for each milestone it answers for, due by the report's quarter."""
    indicators, milestones = planned(obligation)
    fields: dict[str, Field] = {}
    for i in indicators:
        fields[indicator_field(i)] = StringField(
            i.name, validators=[Length(max=MAX_FIGURE_TEXT)], description=i.unit
        )
    for m in milestones:
        fields[milestone_field(m)] = ChoiceField(
            f"完成情况：{m.title}", choices=MILESTONE_CHOICES, default="",
            invalid="请从列表中选择节点完成情况",
        )  # fmt: skip
        fields[milestone_note_field(m)] = TextAreaField(
            f"情况说明（{m.title}）",
            filters=TEXT_FILTERS,
            validators=[Length(max=MAX_MILESTONE_NOTE), no_nul, no_personal_data],
        )
    form_class = type("PlannedReportForm", (ReportForm,), fields) if fields else ReportForm
    form: ReportForm = form_class()
    form.planned_indicators, form.planned_milestones = indicators, milestones
    return form


def _review_length(label: str) -> Length:
    return Length(max=MAX_REVIEW_TEXT, message=f"{label}不能超过 {MAX_REVIEW_TEXT} 字")


class AcceptForm(FlaskForm):
    """Accept a submitted report, confirming its status.

    Build it with ``for_report`` on the page: the confirmed status starts as the department's
    own rating, so accepting without touching it confirms what the department said.
    """

    confirmed_status = ChoiceField(
        "核定状态",
        choices=STATUS_CHOICES,
        validators=[DataRequired("请选择核定状态")],
        invalid="请从列表中选择核定状态",
    )
    comment = TextAreaField(
        "审核意见", filters=TEXT_FILTERS, validators=[_review_length("审核意见"), no_nul]
    )
    submit = SubmitField("审核通过")

    @classmethod
    def for_report(cls, report: Report | None) -> AcceptForm:
        """The form whose confirmed status defaults to ``report``'s self-rating."""
        status = report.status.value if report is not None and report.status else None
        form: AcceptForm = cls(formdata=None, confirmed_status=status)
        return form


class ReopenForm(FlaskForm):
    """Reopen an accepted report, with the reason (kept in the audit trail)."""

    reason = TextAreaField(
        "重新打开理由",
        id="reopen_reason",
        filters=TEXT_FILTERS,
        validators=[
            DataRequired("请填写重新打开的理由"),
            _review_length("重新打开理由"),
            no_nul,
        ],
    )
    submit = SubmitField("重新打开")


class ReturnForm(FlaskForm):
    """Return a submitted report with a reason."""

    reason = TextAreaField(
        "退回理由",
        id="return_reason",
        filters=TEXT_FILTERS,
        validators=[DataRequired("请填写退回理由"), _review_length("退回理由"), no_nul],
    )
    confirmed_status = ChoiceField(
        "核定状态",
        id="return_confirmed_status",  # the accept form beside it has a confirmed_status too
        choices=[("", "暂不核定"), *STATUS_CHOICES],
        default="",
        invalid="请从列表中选择核定状态",
    )
    submit = SubmitField("退回修改")


class SignoffReturnForm(FlaskForm):
    """The department's approver returns a draft to the liaison with a reason (审核签发)."""

    reason = TextAreaField(
        "退回理由",
        id="signoff_reason",
        filters=TEXT_FILTERS,
        validators=[DataRequired("请填写退回理由"), _review_length("退回理由"), no_nul],
        description="联络员将看到此理由；报告不会报送督办协调员。",
    )
    submit = SubmitField("退回联络员修改")


class WaiveForm(FlaskForm):
    """Waive a supporting department's input for one period."""

    reason = TextAreaField(
        "豁免理由",
        id="waive_reason",
        filters=TEXT_FILTERS,
        validators=[DataRequired("请填写豁免理由"), _review_length("豁免理由"), no_nul],
    )
    submit = SubmitField("豁免本期材料")


class EvidenceForm(FlaskForm):
    """Upload one evidence file (a request carrying more is refused, none of them kept)."""

    file = FileField("佐证材料", validators=[FileRequired("请选择文件")])
    submit = SubmitField("上传")

    def validate_file(self, field: Field) -> None:
        sent = [f for f in request.files.getlist(field.name) if f.filename]
        if len(sent) > 1:
            raise ValidationError(
                f"一次只能上传 1 个文件，本次选择了 {len(sent)} 个，均未保存：请逐个上传。"
            )


REVIEW_STATES = [
    (ReportState.SUBMITTED.value, "待审核"),
    (ReportState.RETURNED.value, "已退回"),
    (ReportState.ACCEPTED.value, "已审核通过"),
    ("all", "全部已报送过的"),
]


class ReviewFilterForm(FlaskForm):
    """Narrow the review queue (GET arguments; no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    period = SelectField("报告期", choices=[], default="")
    document = SelectField("文件", choices=[], default="")
    department = SelectField("部门", choices=[], default="")
    role = SelectField(
        "角色", choices=[("", "全部角色")] + [(r.value, r.label) for r in Role], default=""
    )
    number = IntegerField(
        "事项序号", validators=[Optional(), NumberRange(1, 999, "事项序号应为 1 至 999 的整数")]
    )
    state = SelectField("状态", choices=REVIEW_STATES, default=ReportState.SUBMITTED.value)
    due_from = DateField("截止日期自", validators=[Optional()])
    due_to = DateField("至", validators=[Optional()])
    sort = SelectField(
        "排序", choices=[("due", "按截止日期"), ("submitted", "按报送时间")], default="due"
    )

    def fill_choices(
        self,
        periods: list[Period],
        documents: list[PolicyDocument],
        departments: list[Department],
    ) -> None:
        self.period.choices = [("", "全部报告期")] + [(p.key, p.label) for p in periods]
        self.document.choices = [("", "全部文件")] + [(str(d.id), d.number) for d in documents]
        self.department.choices = [("", "全部部门")] + [(d.code, d.name) for d in departments]

    def validate_due_to(self, field: Field) -> None:
        if field.data and self.due_from.data and field.data < self.due_from.data:
            raise ValidationError("截止日期的结束日不能早于开始日")

    def to_filter(self, departments: list[Department]) -> ReviewFilter:
        """The validated choices as a :class:`~tracker.reports.queries.ReviewFilter`."""
        by_code = {d.code: d.id for d in departments}
        state = self.state.data
        return ReviewFilter(
            period=self.period.data or None,
            document_id=int(self.document.data) if self.document.data else None,
            department_id=by_code.get(self.department.data or ""),
            role=Role(self.role.data) if self.role.data else None,
            number=self.number.data,
            state=None if state == "all" else ReportState(state or "submitted"),
            due_from=self.due_from.data,
            due_to=self.due_to.data,
            sort=self.sort.data or "due",
        )
