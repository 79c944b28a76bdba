"""Forms of signing in and changing one's password."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    PasswordField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length

from elearn.http.forms import Form


class LoginForm(Form):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请填写用户名。")), Length(max=80)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码。"))],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("记住我"))
    submit = SubmitField(_l("登录"))


class ChangePasswordForm(Form):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请填写当前密码。"))],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("新密码"), validators=[DataRequired(_l("请填写新密码。"))],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("确认新密码"), validators=[EqualTo("new", _l("两次输入的新密码不一致。"))],
                            render_kw={"autocomplete": "new-password"})
    revoke_tokens = BooleanField(_l("同时吊销我的全部 API 令牌"))
    submit = SubmitField(_l("修改密码"))


class ResetRequestForm(Form):
    email = StringField(_l("电子邮箱"), validators=[DataRequired(_l("请填写电子邮箱。")), Length(max=200)],
                        render_kw={"autocomplete": "email", "autocapitalize": "none", "inputmode": "email"})
    submit = SubmitField(_l("发送重置链接"))


class ResetPasswordForm(Form):
    new = PasswordField(_l("新密码"), validators=[DataRequired(_l("请填写新密码。"))],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("确认新密码"), validators=[EqualTo("new", _l("两次输入的新密码不一致。"))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("设置新密码"))
