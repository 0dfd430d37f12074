"""Dashboard filters (GET forms: they change nothing, so they carry no CSRF token), and the
coordinator's delivery judgement (a POST form, with CSRF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from tracker.catalogue.models import Role
from tracker.dashboard.queries import SECTION_PARTS
from tracker.dashboard.queries.scope import DepartmentRef
from tracker.dashboard.rag import Rag
from tracker.dashboard.services import MAX_JUDGEMENT_REASON
from tracker.delivery.forms import no_personal_data
from tracker.delivery.models import DeliveryStep
from tracker.forms import QuickSelect
from tracker.periods import Period

# Every key of tracker.dashboard.queries.SCORE_SORTS, with its column heading.
SORT_LABELS = {
    "rank": "排名",
    "department": "部门",
    "obligations": "任务数",
    "on_time_rate": "按时报送率",
    "avg_days_late": "平均逾期工作日",
    "returns": "退回次数",
    "urges": "被催办次数",
    "red_share": "红灯占比",
}


class _GetForm(FlaskForm):
    class Meta:
        csrf = False

    def fill_periods(self, periods: list[Period], current: Period) -> None:
        self.period.choices = [(p.key, p.label) for p in periods]
        if not self.period.data:
            self.period.data = current.key

    def fill_documents(self, documents: list[tuple[int, str]]) -> None:
        """``documents``: (id, number) pairs, from ``queries.document_choices()``."""
        self.document.choices = [("", "全部文件")] + [(str(i), number) for i, number in documents]

    @property
    def document_id(self) -> int | None:
        return int(self.document.data) if self.document.data else None


class DashboardFilterForm(_GetForm):
    """Period, document, section (二/三/四), department, role, colour and matrix page."""

    period = SelectField("报告期", choices=[], widget=QuickSelect())
    document = SelectField("文件", choices=[], widget=QuickSelect(), default="")
    section = SelectField(
        "正文部分", choices=[("", "全部")] + [(p, f"{p}、") for p in SECTION_PARTS], default=""
    )
    department = SelectField("部门", choices=[], widget=QuickSelect(), default="")
    role = SelectField(
        "角色", choices=[("", "全部角色")] + [(r.value, r.label) for r in Role], default=""
    )
    state = SelectField(
        "状态", choices=[("", "全部状态")] + [(r.value, r.short_label) for r in Rag], default=""
    )
    page = IntegerField("页码", default=1, validators=[Optional(), NumberRange(min=1)])

    def fill_departments(self, departments: list[DepartmentRef]) -> None:
        self.department.choices = [("", "全部部门")] + [(d.code, d.name) for d in departments]


class ScorecardForm(_GetForm):
    """Period, document and the column to sort by."""

    period = SelectField("报告期", choices=[], widget=QuickSelect())
    document = SelectField("文件", choices=[], widget=QuickSelect(), default="")
    sort = SelectField("排序", choices=list(SORT_LABELS.items()), default="rank")
    desc = BooleanField("降序")


class TrendForm(_GetForm):
    """The document whose trend to show, and the department the chart compares with the
    average."""

    document = SelectField("文件", choices=[], widget=QuickSelect(), default="")
    department = SelectField("对比部门", choices=[], widget=QuickSelect(), default="")

    def fill_departments(self, departments: list[DepartmentRef]) -> None:
        """Offer ``departments``; the first is the default choice."""
        self.department.choices = [(d.code, d.name) for d in departments]
        if not self.department.data and departments:
            self.department.data = departments[0].code


class DeliveryJudgementForm(FlaskForm):
    """A coordinator's judgement of an item's delivery in one quarter (the item page).

    ``suggested`` is the quarter's suggested step, set by the view: a step that differs from
    it needs a reason (the service checks the same).
    """

    period = HiddenField("报告期", validators=[DataRequired("缺少报告期")])
    step = RadioField(
        "落实情况判断",
        choices=[(s.value, s.label) for s in DeliveryStep],
        validators=[InputRequired("请选择落实情况判断")],
    )
    reason = TextAreaField(
        "理由",
        validators=[Length(max=MAX_JUDGEMENT_REASON), no_personal_data],
        description="判断与建议的落实灯不同时必填。",
    )
    revision = HiddenField()
    submit = SubmitField("保存判断")

    suggested: DeliveryStep | None = None

    def validate_reason(self, field: Field) -> None:
        differs = self.step.data and self.step.data != (
            self.suggested.value if self.suggested else None
        )
        if differs and not (field.data or "").strip():
            suggestion = self.suggested.label if self.suggested else "无建议（尚无已批准的计划）"
            raise ValidationError(f"判断与建议的落实灯（{suggestion}）不同，请填写理由。")

    @property
    def expected_revision(self) -> int | None:
        text = str(self.revision.data or "")
        return int(text) if text.isdigit() else None
