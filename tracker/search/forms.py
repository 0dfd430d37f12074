"""The search form: a GET form (it changes nothing, so it carries no CSRF token)."""

from __future__ import annotations

from typing import cast

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import ValidationError

from tracker.periods import Period
from tracker.search.queries import MAX_QUERY, MAX_TERMS, MIN_TERM, SearchQuery


def query_terms(text: str) -> tuple[str, ...]:
    """The terms of a query: split on white space, each kept once, in order."""
    return tuple(dict.fromkeys(text.split()))


class SearchForm(FlaskForm):
    """What to look for and the filters; menus are filled by :meth:`fill`."""

    class Meta:
        csrf = False

    q = StringField("搜索", filters=[lambda value: (value or "").strip()])
    document = SelectField("文件", choices=[], default="", validate_choice=False)
    period = SelectField("报告期", choices=[], default="", validate_choice=False)
    department = SelectField("部门", choices=[], default="", validate_choice=False)
    item = StringField("事项编号", filters=[lambda value: (value or "").strip()])

    def fill(
        self,
        documents: list[tuple[int, str]],
        periods: list[Period],
        departments: list[tuple[int, str]],
    ) -> None:
        self.document.choices = [("", "全部文件")] + [(str(i), n) for i, n in documents]
        self.period.choices = [("", "全部报告期")] + [(p.key, p.label) for p in periods]
        self.department.choices = [("", "全部部门")] + [(str(i), n) for i, n in departments]

    def validate_q(self, field: StringField) -> None:
        text: str = field.data or ""
        if not text:
            raise ValidationError("请输入要搜索的文字。")
        if len(text) > MAX_QUERY:
            raise ValidationError(f"搜索内容最多 {MAX_QUERY} 个字（现为 {len(text)} 个字）。")
        if not any(ch.isalnum() for ch in text):
            raise ValidationError("搜索内容不能只有标点符号，请输入文字或数字。")
        terms = query_terms(text)
        if len(terms) > MAX_TERMS:
            raise ValidationError(f"最多同时搜索 {MAX_TERMS} 个词（用空格分隔）。")
        short = [t for t in terms if len(t) < MIN_TERM]
        if short:
            raise ValidationError(
                f"每个词至少 {MIN_TERM} 个字：“{'”“'.join(short)}”太短，请写得更完整些。"
            )

    def _menu(self, field: SelectField, what: str) -> None:
        choices = cast(list[tuple[str, str]], field.choices)  # set by fill()
        if field.data and field.data not in {value for value, _ in choices}:
            raise ValidationError(f"没有这个{what}，请从列表中选择。")

    def validate_document(self, field: SelectField) -> None:
        self._menu(field, "文件")

    def validate_period(self, field: SelectField) -> None:
        self._menu(field, "报告期")

    def validate_department(self, field: SelectField) -> None:
        self._menu(field, "部门")

    def validate_item(self, field: StringField) -> None:
        if field.data and not (field.data.isascii() and field.data.isdigit()
                               and 1 <= int(field.data) <= 999):  # fmt: skip
            raise ValidationError("事项编号应为 1 至 999 的整数。")

    def to_query(self) -> SearchQuery:
        """The validated input as a query."""
        return SearchQuery(
            terms=query_terms(self.q.data or ""),
            document_id=int(self.document.data) if self.document.data else None,
            period=self.period.data or None,
            department_id=int(self.department.data) if self.department.data else None,
            item=int(self.item.data) if self.item.data else None,
        )

    def filter_args(self) -> dict[str, str]:
        """The query and filters as URL arguments, for the page links."""
        fields = (self.q, self.document, self.period, self.department, self.item)
        return {f.name: f.data for f in fields if f.data}
