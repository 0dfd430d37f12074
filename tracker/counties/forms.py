"""Forms of the county ledger: the county list upload, a county account's county, a county's
counts of a quarter, and the province's template upload. Files are read and checked here."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import Field, Form, StringField, SubmitField
from wtforms.validators import ValidationError

from tracker.counties.counts import NO, YES, count_problem, yes_no_answer
from tracker.counties.models import County
from tracker.counties.queries import CountyIndicator
from tracker.counties.sheets import (
    MAX_FILE_BYTES,
    CountyRow,
    FileRefused,
    read_county_file,
    read_template,
)
from tracker.forms import ChoiceField
from tracker.periods import Period
from tracker.privacy import check_text


def _problems_message(exc: FileRefused) -> str:
    shown = "；".join(exc.problems[:10])
    more = f"（另有 {len(exc.problems) - 10} 个问题）" if len(exc.problems) > 10 else ""
    return f"文件未通过检查，共 {len(exc.problems)} 个问题，未保存任何内容：{shown}{more}"


class CountyImportForm(FlaskForm):
    """Upload the county list (CSV or .xlsx: 区划代码, 名称, 地市)."""

    file = FileField(
        "县名单（.csv 或 .xlsx）",
        validators=[FileRequired("请选择县名单文件")],
        description=(
            f"第1行为列名：区划代码、名称、地市（可选）；不超过 {MAX_FILE_BYTES // 1048576} MB"
        ),
    )
    submit = SubmitField("导入县名单")

    rows: list[CountyRow]

    def validate_file(self, field: FileField) -> None:
        upload = field.data
        if not upload or not upload.filename:
            return
        try:
            self.rows = read_county_file(upload.filename, upload.stream.read())
        except FileRefused as exc:
            raise ValidationError(_problems_message(exc)) from None


class AssignCountyForm(FlaskForm):
    """Give a county account its county."""

    user = ChoiceField("县级填报员账号", invalid="请选择账号", choices=[])
    county = ChoiceField("所属县", invalid="请选择县", choices=[])
    submit = SubmitField("保存")

    def setup(self, users: list[tuple[int, str]], counties: list[County]) -> None:
        self.user.choices = [(str(i), name) for i, name in users]
        self.county.choices = [("", "（不指定）")] + [
            (str(c.id), f"{c.code} {c.name}") for c in counties
        ]


def _count_field(indicator: CountyIndicator) -> StringField:
    def check(form: Form, field: Field) -> None:
        text = (field.data or "").strip()
        refusal = check_text(str(field.label.text), text)
        if refusal:
            raise ValidationError(refusal)
        if text:
            problem = count_problem(text)
            if problem:
                raise ValidationError(problem)

    return StringField(
        f"{indicator.name}（{indicator.unit}）",
        validators=[check],
        description=f"{indicator.item}；汇总数，不填个人信息；留空表示未报",
        filters=[lambda text: text.strip() if isinstance(text, str) else text],
    )


YES_NO_CHOICES = [("", "（未报）"), ("1", YES), ("0", NO)]


def _yes_no_field(indicator: CountyIndicator) -> ChoiceField:
    """A county's 是 / 否 for an indicator that counts counties, sent as the count 1 / 0."""
    return ChoiceField(
        indicator.question,
        invalid=f"{indicator.question}：请选择“{YES}”或“{NO}”",
        choices=list(YES_NO_CHOICES),
        description=f"{indicator.name}（{indicator.unit}），{indicator.item}；"
        f"“{YES}”计 1、“{NO}”计 0，各县相加即为合计；不选表示未报",
    )


class _CountyValuesBase(FlaskForm):
    submit = SubmitField("保存")
    indicators: list[CountyIndicator]

    def field_of(self, indicator: CountyIndicator) -> Field:
        return self[f"v_{indicator.key}"]

    def fill(self, values: dict[str, int]) -> None:
        for indicator in self.indicators:
            if indicator.key not in values:
                continue
            field = self.field_of(indicator)
            value = values[indicator.key]
            if isinstance(field, ChoiceField) and value not in (0, 1):
                # A count stored before (not 1 or 0) is shown as it is until changed.
                field.choices = [*YES_NO_CHOICES, (str(value), f"{yes_no_answer(value)}（原值）")]
            field.data = str(value)

    def values(self) -> dict[str, int | None]:
        """The typed counts by indicator key (None: left blank)."""
        result: dict[str, int | None] = {}
        for indicator in self.indicators:
            text = (self.field_of(indicator).data or "").replace(",", "")
            result[indicator.key] = int(text) if text else None
        return result


def county_values_form(indicators: list[CountyIndicator], **kwargs: Any) -> _CountyValuesBase:
    """A form with one text field per indicator (typed text is kept when refused); an
    indicator that counts counties is a 是 / 否 choice instead, whose values are 1 / 0."""

    class CountyValuesForm(_CountyValuesBase):
        pass

    for indicator in indicators:
        make = _yes_no_field if indicator.yes_no else _count_field
        setattr(CountyValuesForm, f"v_{indicator.key}", make(indicator))
    form = CountyValuesForm(**kwargs)
    form.indicators = indicators
    return form


class TemplateUploadForm(FlaskForm):
    """The province uploads a filled-in county template of one quarter."""

    file = FileField(
        "填好的县级台账模板（.xlsx）",
        validators=[FileRequired("请选择要上传的模板")],
        description=(
            f"本季度下载的模板，不超过 {MAX_FILE_BYTES // 1048576} MB；空白单元格不改变已有数值"
        ),
    )
    submit = SubmitField("上传并保存")

    parsed: dict[int, dict[str, int]]

    def setup(
        self, period: Period, counties: dict[str, County], indicators: list[CountyIndicator]
    ) -> None:
        self.period, self.counties, self.indicators = period, counties, indicators

    def validate_file(self, field: FileField) -> None:
        upload = field.data
        if not upload or not upload.filename:
            return
        try:
            self.parsed = read_template(
                upload.filename, upload.stream.read(), self.period, self.counties, self.indicators
            )
        except FileRefused as exc:
            raise ValidationError(_problems_message(exc)) from None
