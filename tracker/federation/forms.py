"""The cascade's forms: a member instance, adopting a document, breaking an item down and
reporting a quarter up."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from tracker import instance
from tracker.federation import wire
from tracker.forms import ChoiceField

MAX_EXPORT_BYTES = 5 * 1024 * 1024


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class MemberForm(FlaskForm):
    """A member instance one level down."""

    code = StringField(
        "行政区划代码", filters=[_strip],
        validators=[DataRequired("请输入 6 位行政区划代码"),
                    Regexp(wire.CODE, message="应为 6 位数字，如 130000")],
    )  # fmt: skip
    name = StringField(
        "名称", filters=[_strip],
        validators=[
            DataRequired("请输入名称，如 河北省"), Length(max=64, message="不超过 64 个字符")
        ],
    )  # fmt: skip
    level = ChoiceField("层级", choices=[], invalid="请选择层级")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the levels this instance registers (one level down; none at a county).
        here = instance.current()
        self.level.choices = [(k, instance.LEVELS[k]) for k in here.member_levels]
        self.level.invalid = here.member_refusal
        if not self.level.data and here.member_levels:
            self.level.data = here.member_levels[0]


class AdoptForm(FlaskForm):
    """Adopt from a file (air-gapped) or pull by number from the level above."""

    file = FileField("导出文件（JSON）")
    number = StringField(
        "或从上级实例拉取：文号", filters=[_strip],
        validators=[Optional(), Length(max=64, message="文号不超过 64 个字符")],
        description="如：民发〔2019〕86号（需配置 TRACKER_UPSTREAM_URL 和 TRACKER_UPSTREAM_TOKEN）",
    )  # fmt: skip

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        upload = self.file.data
        if not (upload and upload.filename) and not self.number.data:
            self.file.errors = ["请选择导出文件，或填写要拉取的文号"]
            return False
        return True


class BreakDownForm(FlaskForm):
    """分解: a provincial sub-item with its own departments."""

    text = TextAreaField(
        "子任务内容", filters=[_strip],
        validators=[DataRequired("请填写子任务内容"), Length(max=2000, message="不超过 2000 字")],
    )  # fmt: skip
    lead = SelectField("牵头部门", coerce=int, validate_choice=True)
    supporting = SelectMultipleField(
        "配合部门", coerce=int, validate_choice=True,
        description="可多选：按住 Ctrl（苹果电脑按 Command）逐个点选；不选表示没有配合部门",
    )  # fmt: skip

    def validate_supporting(self, field: SelectMultipleField) -> None:
        from wtforms.validators import ValidationError

        if self.lead.data in (field.data or []):
            raise ValidationError("牵头部门不能同时是配合部门")


class ReportUpForm(FlaskForm):
    """上报 a quarter."""

    period = StringField(
        "季度", filters=[_strip],
        description="如 2026Q4（2026年第四季度）；同一季度再次上报即为更正，生成新的一版",
        validators=[DataRequired("请填写季度，如 2026Q3"),
                    Regexp(wire.PERIOD, message="应为 年份+Q+季度，如 2026Q3")],
    )  # fmt: skip
