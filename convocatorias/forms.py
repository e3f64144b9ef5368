"""Forms of the applicant area: the organisation profile, the simple profile of an idea, attachments.

Forms check the shape of what was typed (lengths, choices, numbers, CLP amounts); the rules of the call
(deadline, amount range, regions, cap, required fields on sending) live in `convocatorias.postulaciones`.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from convocatorias.labels import MADUREZ_LABELS, TIPO_ORGANIZACION_LABELS, label_choices
from convocatorias.models import PERFIL_FIELDS, Convocatoria
from idea import chile
from idea.forms import SafeForm

LONG_TEXT = 4000


def _choose(label: Any = None) -> tuple[str, Any]:
    return ("", label or _l("Choose one"))


def _region_choices() -> list[tuple[str, Any]]:
    return [_choose(_l("Choose a region")), *chile.region_choices()]


class ClpField(StringField):
    """An amount in whole pesos typed as "$25.000.000", "25.000.000" or "25000000"; data is an int or None."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        if not text:
            self.data = None
            return
        try:
            self.data = chile.parse_clp(text)
        except ValueError:
            self.data = None
            raise ValueError(str(_l("Write the amount in whole pesos, for example $25.000.000."))) from None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return chile.format_clp(self.data) if isinstance(self.data, int) else ""


class OrganizacionForm(SafeForm):
    name = StringField(_l("Name of the organisation or group"), validators=[InputRequired(), Length(max=200)])
    rut = StringField(_l("RUT"), validators=[InputRequired(), Length(max=20)],
                      description=_l("The RUT of the organisation, for example 65.123.456-7."))
    tipo = SelectField(_l("Type of organisation"), validators=[InputRequired()],
                       choices=[_choose(), *label_choices(TIPO_ORGANIZACION_LABELS)])
    region = SelectField(_l("Region"), validators=[InputRequired()], choices=_region_choices())
    comuna = StringField(_l("Commune"), validators=[InputRequired(), Length(max=100)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=200)])
    contact_email = EmailField(_l("Contact e-mail"), validators=[Optional(), Email(), Length(max=254)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    submit = SubmitField(_l("Save organisation"))


class PostulacionForm(SafeForm):
    """The simple profile. Every field may be empty in a draft; sending requires all of them."""

    desafio_id = SelectField(_l("Challenge"), validators=[Optional()])
    title = StringField(_l("Title of the idea"), validators=[Optional(), Length(max=200)],
                        description=_l("A short name that says what the idea does."))
    problem = TextAreaField(_l("Problem"), validators=[Optional(), Length(max=LONG_TEXT)],
                            description=_l("What problem of the challenge does your idea address, and why "
                                           "does it matter?"))
    solution = TextAreaField(_l("Proposed solution"), validators=[Optional(), Length(max=LONG_TEXT)],
                             description=_l("What would you do, and what makes it different?"))
    beneficiaries = TextAreaField(_l("Who benefits"), validators=[Optional(), Length(max=LONG_TEXT)],
                                  description=_l("The people or families the idea is for."))
    beneficiaries_count = IntegerField(_l("How many people would benefit"),
                                       validators=[Optional(), NumberRange(min=1, max=100_000_000)])
    region = SelectField(_l("Region where the idea would be carried out"), validators=[Optional()],
                         choices=_region_choices())
    comuna = StringField(_l("Commune"), validators=[Optional(), Length(max=100)])
    maturity = SelectField(_l("Maturity of the idea"), validators=[Optional()],
                           choices=[_choose(), *label_choices(MADUREZ_LABELS)])
    coproduction = TextAreaField(_l("Co-production with users"),
                                 validators=[Optional(), Length(max=LONG_TEXT)],
                                 description=_l("How the people the idea is for take part in designing and "
                                                "running it."))
    requested_amount = ClpField(_l("Amount requested (CLP)"))
    team = TextAreaField(_l("Team"), validators=[Optional(), Length(max=LONG_TEXT)],
                         description=_l("Who would carry out the idea and what experience they bring."))
    save_draft = SubmitField(_l("Save draft"))
    submit = SubmitField(_l("Submit"))

    def __init__(self, convocatoria: Convocatoria, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.desafio_id.choices = [_choose(_l("Choose a challenge")),
                                   *[(str(d.id), d.title) for d in convocatoria.desafios]]
        self.requested_amount.description = _l(
            "Between %(min)s and %(max)s.", min=chile.format_clp(convocatoria.min_amount),
            max=chile.format_clp(convocatoria.max_amount))

    def profile_data(self) -> dict[str, Any]:
        """The typed values under the names of the submission's fields."""
        return {name: getattr(self, name).data for name in PERFIL_FIELDS}


class AdjuntoForm(SafeForm):
    archivo = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file to attach."))],
                        description=_l("PDF, PNG or JPEG, up to 10 MB each, at most 5 per submission."))
    upload = SubmitField(_l("Attach file"))
