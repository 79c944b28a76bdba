"""Forms of organisation administration: a sub-organisation, a member, a transfer."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from elearn.access import Role
from elearn.errors import ServiceError
from elearn.http.forms import Form
from elearn.orgs import contacts
from elearn.policy import MEMBER_CATEGORIES, ORG_KINDS, ROLES, SECTORS


def _choices(mapping):
    return [(k, str(v)) for k, v in mapping.items()]


class Checked:
    """A field validator applying one of the domain's rules (a function of :mod:`elearn.orgs.contacts`): the
    rule's message when it refuses the value, the rule's stored form of the value when it accepts it."""

    def __init__(self, rule):
        self.rule = rule

    def __call__(self, form, field):
        try:
            field.data = self.rule(field.data)
        except ServiceError as exc:
            raise ValidationError(exc.message) from exc


class OrganisationForm(Form):
    name = StringField(_l("组织名称"), validators=[DataRequired(_l("请填写组织名称。")), Length(max=200)])
    kind = SelectField(_l("组织类型"))
    sector = SelectField(_l("领域"))
    county_level_or_above = BooleanField(_l("县级及以上党委"))
    submit = SubmitField(_l("创建组织"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _choices(ORG_KINDS)
        self.sector.choices = _choices(SECTORS)


class MemberForm(Form):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请填写用户名。")), Length(min=3, max=80)])
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名。")), Length(max=100)])
    phone = StringField(_l("手机号"), validators=[Optional(), Length(max=30), Checked(contacts.phone)])
    email = StringField(_l("电子邮箱"), validators=[Optional(), Length(max=contacts.EMAIL_MAX),
                                                    Checked(contacts.email)])
    organisation_id = SelectField(_l("所在组织"), coerce=int)
    role = SelectField(_l("角色"))
    category = SelectField(_l("党员类别"))
    exempt = BooleanField(_l("免予学时要求（年老体弱、行动不便）"))
    exempt_reason = StringField(_l("免予原因"), validators=[Optional(), Length(max=200)])
    party_joined_on = DateField(_l("入党日期"), validators=[Optional()])  # the political birthday
    password = PasswordField(_l("初始密码"), validators=[Optional()], render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, org_choices=(), allow_site_admin=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = list(org_choices)
        roles = {k: v for k, v in ROLES.items() if allow_site_admin or k != Role.SITE_ADMIN}
        self.role.choices = _choices(roles)
        self.category.choices = _choices(MEMBER_CATEGORIES)


class TransferForm(Form):
    to_org = SelectField(_l("转入组织"), coerce=int)
    mobile = BooleanField(_l("流动党员（保留原组织关系，由流入组织负责）"))
    on = DateField(_l("转接日期"), validators=[Optional()])
    note = StringField(_l("备注"), validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("转接"))
