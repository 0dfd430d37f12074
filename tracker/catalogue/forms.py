"""The catalogue pages' forms: the task filter (a GET form: no CSRF token) and a department's
fields (administrators)."""

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from tracker.catalogue.models import Department, PolicyDocument, Role
from tracker.catalogue.queries import SECTION_PARTS
from tracker.catalogue.services import CODE_MESSAGE, CODE_PATTERN, DepartmentInput, split_aliases
from tracker.forms import ChoiceField


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
        self.department.choices = [("", "全部部门")] + [
            (d.code, d.name if d.active else f"{d.name}（已停用）") for d in departments
        ]
        self.section.choices = [("", "全部")] + [(p, f"{p}、") for p in SECTION_PARTS]
        self.role.choices = [("", "全部角色")] + [(r.value, r.label) for r in Role]


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class DepartmentEditForm(FlaskForm):
    """A department's full name, short name, aliases and place in lists (administrators)."""

    name = StringField(
        "部门全称",
        filters=[_strip],
        validators=[DataRequired("请填写部门全称"), Length(max=64, message="不超过 64 个字符")],
        description="按文件中的写法，如：人力资源社会保障部",
    )
    short_name = StringField(
        "简称",
        filters=[_strip],
        validators=[Optional(), Length(max=32, message="不超过 32 个字符")],
        description="用于表格和看板；不填则与全称相同",
    )
    aliases = TextAreaField(
        "别称",
        description="文件中可能出现的其他写法，用“、”或换行分隔；改名后旧全称自动保留为别称",
    )
    position = StringField(
        "排序号",
        filters=[_strip],
        validators=[Optional(), Regexp(r"^[0-9]{1,4}$", message="排序号应为 0 到 9999 之间的整数")],
        description="部门列表按排序号从小到大排列；不填则不变（新建时排在最后）",
    )
    signoff = ChoiceField(
        "审核签发",
        choices=[("default", "按系统默认"), ("on", "开启"), ("off", "关闭")],
        default="default",
        invalid="请从列表中选择",
        description="开启时，本部门联络员填好的报告须经本部门审核人签发后才报送督办协调员",
    )
    submit = SubmitField("保存修改")

    def fill_signoff(self, department: Department | None, default_on: bool) -> None:
        """Show the department's setting, and what the system default is today."""
        self.signoff.choices = [
            ("default", f"按系统默认（当前为{'开启' if default_on else '关闭'}）"),
            ("on", "开启"),
            ("off", "关闭"),
        ]
        if department is not None and not self.is_submitted():
            value = department.signoff_required
            self.signoff.data = "default" if value is None else ("on" if value else "off")

    def to_input(self) -> DepartmentInput:
        return DepartmentInput(
            name=self.name.data or "",
            short_name=self.short_name.data or "",
            aliases=split_aliases(self.aliases.data),
            position=int(self.position.data) if self.position.data else None,
            signoff=self.signoff.data or None,
        )


class DepartmentForm(DepartmentEditForm):
    """A new department: its code as well (it never changes)."""

    code = StringField(
        "部门代码",
        filters=[_strip],
        validators=[
            DataRequired("请填写部门代码"),
            Regexp(CODE_PATTERN, message=CODE_MESSAGE),
        ],
        description="小写字母、数字和“-”，用于网址和命令行，创建后不能修改，如 mca",
    )
    submit = SubmitField("新建部门")


class LiaisonSlotsForm(FlaskForm):
    """A department's main (A角) and alternate (B角) liaison, chosen among its liaisons."""

    main = SelectField("A角（主要联络员）", choices=[], default="")
    alternate = SelectField("B角（备用联络员）", choices=[], default="")
    submit = SubmitField("保存")

    def fill_choices(self, people: Iterable[tuple[int, str]]) -> None:
        options = [("", "（暂不指定）")] + [(str(user_id), name) for user_id, name in people]
        self.main.choices = options
        self.alternate.choices = list(options)

    @staticmethod
    def chosen(value: str | None) -> int | None:
        return int(value) if value and value.isdigit() else None
