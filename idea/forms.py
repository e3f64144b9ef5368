"""Forms of the core: accounts, profile, staff administration."""

from __future__ import annotations

import re
from typing import Any

import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional

from idea.chile import region_choices
from idea.models import Role
from idea.passwords import password_problems

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.ENCARGADO_TECNICO: _l("Technical lead"),
    Role.EVALUADOR: _l("Reviewer"),
    Role.COMITE: _l("Committee member"),
    Role.MENTOR: _l("Mentor"),
    Role.JURADO: _l("Demo day jury"),
    Role.POSTULANTE: _l("Applicant"),
}


# Characters nobody means to type: C0 controls except tab, line feed and carriage return, and DEL. They
# arrive pasted from PDFs or sent by scripts, make the XLSX export invalid and NUL breaks PostgreSQL.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_CHARACTERS_MESSAGE = _l(
    "This field had invisible control characters; we removed them. Check the text and send the form again."
)


class _ScrubControlCharacters:
    """Every text a visitor sends is cleaned of control characters, and the field says so (so the
    form is shown again with the cleaned text instead of saving something the visitor did not see)."""

    _fields: dict[str, wtforms.Field]

    def process(self, *args: Any, **kwargs: Any) -> None:
        super().process(*args, **kwargs)  # type: ignore[misc]
        for field in self._fields.values():
            _scrub(field)


def _scrub(field: wtforms.Field) -> None:
    # Only what came from the client (raw_data); a password is checked as typed, never altered.
    if isinstance(field, PasswordField) or not field.raw_data:
        return
    if isinstance(field.data, str) and CONTROL_CHARACTERS.search(field.data):
        field.data = CONTROL_CHARACTERS.sub("", field.data)
        field.raw_data = [CONTROL_CHARACTERS.sub("", v) if isinstance(v, str) else v for v in field.raw_data]
        field.process_errors.append(CONTROL_CHARACTERS_MESSAGE)


class SafeForm(_ScrubControlCharacters, FlaskForm):
    """The base of every form of the platform (instead of FlaskForm): CSRF plus control-character cleaning."""


class SafeSubform(_ScrubControlCharacters, wtforms.Form):
    """The base of forms nested in a SafeForm (FormField rows): the same cleaning, no CSRF of their own."""


class FilterForm(SafeForm):
    """The base of GET filter forms: no CSRF (they change nothing), and a value that is only whitespace
    counts as absent (each text is stripped), so `?estado=%20` means "no filter"."""

    class Meta:
        csrf = False

    def process(self, *args: Any, **kwargs: Any) -> None:
        super().process(*args, **kwargs)
        for field in self._fields.values():
            if isinstance(field.data, str):
                field.data = field.data.strip()


def role_label(value: Role | str) -> str:
    """What the pages and e-mails call a role (a member or its stored value); an unknown value as is."""
    return str(ROLE_LABELS.get(value, value))


class EmptyForm(SafeForm):
    """A POST button: only the CSRF token."""

    submit = SubmitField(_l("Confirm"))


class RegisterForm(SafeForm):
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(), Length(max=254)])
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(), Length(max=200)],
        description=_l("At least 12 characters. A phrase of several words works well."),
    )
    password2 = PasswordField(
        _l("Repeat the password"),
        validators=[InputRequired(), EqualTo("password", message=_l("Passwords do not match."))],
    )
    submit = SubmitField(_l("Create account"))

    def validate(self, extra_validators: Any = None) -> bool:
        """Besides the fields' own checks, every problem of the password at once, not one per attempt."""
        valid = super().validate(extra_validators)
        if self.password.data:
            problems = password_problems(self.password.data, user_inputs=[self.email.data, self.name.data])
            self.password.errors = [*self.password.errors, *problems]
            valid = valid and not problems
        return valid


class LoginForm(SafeForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])
    submit = SubmitField(_l("Log in"))


class EmailForm(SafeForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(), Length(max=254)])
    submit = SubmitField(_l("Send link"))


class SetPasswordForm(SafeForm):
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(), Length(max=200)],
        description=_l("At least 12 characters. A phrase of several words works well."),
    )
    password2 = PasswordField(
        _l("Repeat the password"),
        validators=[InputRequired(), EqualTo("password", message=_l("Passwords do not match."))],
    )
    submit = SubmitField(_l("Save password"))


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired(), Length(max=200)])
    submit = SubmitField(_l("Change password"))


class ProfileForm(SafeForm):
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    locale = SelectField(
        _l("Language"),
        choices=[("", _l("Default (Spanish)")), ("es", "Español"), ("en", "English")],
        validators=[Optional()],
    )
    submit = SubmitField(_l("Save"))


def _role_choices(include_postulante: bool = True) -> list[tuple[str, str]]:
    # An empty first option: nothing is pre-chosen (not even "Administrator"), and a required <select>
    # must start with a placeholder to be valid HTML.
    roles = [(r.value, role_label(r)) for r in Role if include_postulante or r != Role.POSTULANTE]
    return [("", _l("Choose a role"))] + roles


class GrantRoleForm(SafeForm):
    role = SelectField(_l("Role"), validators=[InputRequired()])
    convocatoria_id = SelectField(
        _l("Call"), validators=[Optional()], coerce=str, description=_l("Leave empty for every call.")
    )
    region = SelectField(
        _l("Region"), validators=[Optional()], description=_l("Leave empty for every region.")
    )
    submit = SubmitField(_l("Grant role"))

    def __init__(self, call_choices: list[tuple[str, str]], *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = _role_choices()
        self.convocatoria_id.choices = [("", _l("All calls"))] + call_choices
        self.region.choices = [("", _l("All regions"))] + region_choices()


class InviteStaffForm(GrantRoleForm):
    name = StringField(_l("Full name"), validators=[InputRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(), Length(max=254)])
    submit = SubmitField(_l("Send invitation"))

    def __init__(self, call_choices: list[tuple[str, str]], *args: object, **kwargs: object) -> None:
        super().__init__(call_choices, *args, **kwargs)
        self.role.choices = _role_choices(include_postulante=False)


class AuditFilterForm(FilterForm):
    actor = StringField(_l("Who (e-mail)"), validators=[Optional(), Length(max=254)])
    action = StringField(_l("Action"), validators=[Optional(), Length(max=80)])
    object_type = StringField(_l("Object type"), validators=[Optional(), Length(max=80)])
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=80)])
    # Shown as <input type="date">, which may not carry maxlength (so no Length here); the view parses them.
    date_from = StringField(_l("From (YYYY-MM-DD)"), validators=[Optional()])
    date_to = StringField(_l("To (YYYY-MM-DD)"), validators=[Optional()])
