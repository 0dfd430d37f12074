"""Sign-in, password and account forms."""

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from tracker.auth.models import DEPARTMENT_ROLES, UserRole
from tracker.auth.services import PHONE_MAX_LENGTH, UserError, normalise_phone
from tracker.catalogue.models import Department
from tracker.forms import ChoiceField


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=256)])
    submit = SubmitField("登录")


class ChangePasswordForm(FlaskForm):
    """A user's own new password, checked against the current one."""

    current_password = PasswordField("当前密码", validators=[DataRequired("请输入当前密码")])
    new_password = PasswordField(
        "新密码",
        validators=[DataRequired("请输入新密码"), Length(max=256, message="不超过 256 个字符")],
        description=(
            "至少 10 个字符，含大写字母、小写字母、数字、其他符号中的至少三类；"
            "不能包含用户名，不能与最近 5 次的密码相同。"
        ),
    )
    confirm = PasswordField(
        "确认新密码", validators=[EqualTo("new_password", message="两次输入的新密码不一致")]
    )
    submit = SubmitField("修改密码")

    def validate_new_password(self, field: Field) -> None:
        if field.data == self.current_password.data:
            raise ValidationError("新密码不能与当前密码相同")


class TokenForm(FlaskForm):
    """Name a new API token after what will use it (e.g. 人社部业务系统)."""

    name = StringField(
        "令牌名称",
        validators=[DataRequired("请填写令牌名称"), Length(max=64, message="不超过 64 个字符")],
        description="写明用途，如“本部门业务系统”，便于日后识别和撤销。",
    )
    submit = SubmitField("签发新令牌")


class _AccountForm(FlaskForm):
    """What creating and editing an account share: e-mail, role and department (a liaison
    must have one); the department choices come from the caller."""

    email = StringField(
        "邮箱",
        validators=[
            Optional(),
            Length(max=255, message="不超过 255 个字符"),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="邮箱格式不正确"),
        ],
        description="接收催报提醒和催办通知；可不填。",
    )
    role = ChoiceField(
        "角色",
        choices=[(role.value, role.label) for role in UserRole],
        invalid="请从列表中选择角色",
    )
    department = ChoiceField(
        "部门",
        choices=[],
        default="",
        description="联络员必填；领导（查阅者）不选部门即可看全部。",
        invalid="请从列表中选择部门",
    )

    def __init__(self, *args: Any, departments: Iterable[Department] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.department.choices = [("", "（不属于部门）")] + [
            (d.code, d.name if d.active else f"{d.name}（已停用）") for d in departments
        ]

    def validate_department(self, field: Field) -> None:
        role = next((r for r in DEPARTMENT_ROLES if r.value == self.role.data), None)
        if role is not None and not field.data:
            raise ValidationError(f"{role.label}必须属于一个部门")


class UserForm(_AccountForm):
    """A new account (an administrator's page): the password is generated, shown once."""

    username = StringField(
        "用户名",
        validators=[
            DataRequired("请填写用户名"),
            Length(max=64, message="不超过 64 个字符"),
            Regexp(r"^[^\s]+$", message="用户名不能含空格"),
        ],
        description="登录用，如 zhangsan；创建后不能修改。",
    )
    display_name = StringField(
        "姓名", validators=[Optional(), Length(max=64, message="不超过 64 个字符")]
    )
    role = ChoiceField(
        "角色",
        choices=[(role.value, role.label) for role in UserRole],
        default=UserRole.LIAISON.value,
        invalid="请从列表中选择角色",
    )
    submit = SubmitField("创建账号")


class UserEditForm(_AccountForm):
    """An account's name, contact details, role and department (an administrator's page)."""

    display_name = StringField(
        "姓名",
        validators=[DataRequired("请填写姓名"), Length(max=64, message="不超过 64 个字符")],
    )
    phone = StringField(
        "联系电话",
        validators=[Optional(), Length(max=PHONE_MAX_LENGTH, message="不超过 32 个字符")],
        description="办公电话，如 010-58123456；显示在通讯录中，可不填。",
    )
    submit = SubmitField("保存修改")

    def validate_phone(self, field: Field) -> None:
        try:
            normalise_phone(field.data)
        except UserError as error:
            raise ValidationError(error.message) from None


_SIX_DIGITS = Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message="请输入身份验证器应用显示的 6 位数字")


class SecondFactorLoginForm(FlaskForm):
    """The second step of signing in: the authenticator app's code or a recovery code."""

    code = StringField(
        "动态口令或恢复码",
        validators=[
            DataRequired("请输入动态口令或恢复码"),
            Length(max=32, message="不超过 32 个字符"),
        ],
        description=(
            "身份验证器应用当前显示的 6 位数字；手机不在身边时，可输入一个恢复码"
            "（如 12345-67890），每个恢复码只能用一次。"
        ),
    )
    submit = SubmitField("验证并登录")


class EnrolSecondFactorForm(FlaskForm):
    """Confirm a new second factor with the first code the authenticator app shows."""

    code = StringField("动态口令", validators=[DataRequired("请输入 6 位动态口令"), _SIX_DIGITS])
    submit = SubmitField("启用双因素认证")


class RegenerateRecoveryCodesForm(FlaskForm):
    """New recovery codes in place of the old ones, proven by a current code."""

    regenerate_code = StringField(
        "当前动态口令", validators=[DataRequired("请输入当前的 6 位动态口令"), _SIX_DIGITS]
    )
    submit = SubmitField("重新生成恢复码")


class RemoveSecondFactorForm(FlaskForm):
    """Remove one's own second factor (only if one's role does not require it)."""

    remove_code = StringField(
        "当前动态口令", validators=[DataRequired("请输入当前的 6 位动态口令"), _SIX_DIGITS]
    )
    submit = SubmitField("停用双因素认证")
