"""Filters for the catalogue pages (GET forms: no state changes, no CSRF token)."""

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import SelectField

from tracker.catalogue.models import Department, PolicyDocument, Role
from tracker.catalogue.queries import SECTION_PARTS


class TaskFilterForm(FlaskForm):
    """Filter the catalogue by document, department, section and role."""

    class Meta:
        csrf = False

    document = SelectField("文件", choices=[], default="")
    department = SelectField("部门", choices=[], default="")
    section = SelectField("正文部分", choices=[], default="")
    role = SelectField("角色", choices=[], default="")

    def fill_choices(
        self, documents: Iterable[PolicyDocument], departments: Iterable[Department]
    ) -> None:
        self.document.choices = [("", "全部文件")] + [(str(d.id), d.number) for d in documents]
        self.department.choices = [("", "全部部门")] + [(d.code, d.name) for d in departments]
        self.section.choices = [("", "全部")] + [(p, f"{p}、") for p in SECTION_PARTS]
        self.role.choices = [("", "全部角色")] + [(r.value, r.label) for r in Role]
