"""Sign-in and password forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

MIN_PASSWORD_LENGTH = 10


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=256)])
    remember = BooleanField("保持登录")
    submit = SubmitField("登录")


class ChangePasswordForm(FlaskForm):
    """A user's own new password, checked against the current one."""

    current_password = PasswordField("当前密码", validators=[DataRequired("请输入当前密码")])
    new_password = PasswordField(
        "新密码",
        validators=[
            DataRequired("请输入新密码"),
            Length(min=MIN_PASSWORD_LENGTH, max=256, message="新密码至少 10 个字符"),
        ],
    )
    confirm = PasswordField(
        "确认新密码", validators=[EqualTo("new_password", message="两次输入的新密码不一致")]
    )
    submit = SubmitField("修改密码")

    def validate_new_password(self, field):
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
