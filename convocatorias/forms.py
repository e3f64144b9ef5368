"""Forms of the applicant area: the organisation profile, the simple profile of an idea, attachments.

Forms check the shape of what was typed (lengths, choices, numbers, CLP amounts); the rules of the call
(deadline, amount range, regions, cap, required fields on sending) live in `convocatorias.postulaciones`.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import EmailField, IntegerField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from convocatorias.labels import MADUREZ_LABELS, TIPO_ORGANIZACION_LABELS, label_choices
from convocatorias.models import PERFIL_FIELDS, Convocatoria
from idea import chile, comunas
from idea.forms import SafeForm

LONG_TEXT = 4000


def _choose(label: Any = None) -> tuple[str, Any]:
    return ("", label or _l("Choose one"))


def _region_choices() -> list[tuple[str, Any]]:
    return [_choose(_l("Choose a region")), *chile.region_choices()]


class ComunaField(SelectField):
    """A comuna chosen from the official list, grouped by region; the stored value is the comuna's name.

    The form only reads the choice: whether it belongs to the chosen region is a rule of the operations
    (`postulaciones`), which answer in Spanish with the field it belongs to. A name stored before the list
    existed ("Concepcion", "Puerto Natales") is shown selected as its official spelling.
    """

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        # forms.js narrows the list to the region chosen in the form's `region` select, when scripts run.
        kwargs.setdefault("render_kw", {"data-filter-by": "region"})
        super().__init__(label, validators, validate_choice=False, **kwargs)
        self.choices = {None: [_choose(_l("Choose a commune"))], **comunas.comuna_choices()}

    def process_data(self, value: Any) -> None:
        comuna = comunas.find(value) if isinstance(value, str) else None
        if comuna is None and isinstance(value, str) and value.strip():
            # A stored value outside the list stays visible (and selected) rather than vanishing on the next
            # save; saving it is refused with a message asking to choose from the list.
            self.choices = {None: [*self.choices[None], (value, value)],
                            **{k: v for k, v in self.choices.items() if k is not None}}
        super().process_data(comuna.name if comuna else value)


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
                      description=_l("The RUT of the organisation, for example 65.123.456-5."))
    tipo = SelectField(_l("Type of organisation"), validators=[InputRequired()],
                       choices=[_choose(), *label_choices(TIPO_ORGANIZACION_LABELS)])
    region = SelectField(_l("Region"), validators=[InputRequired()], choices=_region_choices())
    comuna = ComunaField(_l("Commune"), validators=[InputRequired()],
                         description=_l("The communes are grouped by region."))
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
    # A text box with the numeric keyboard rather than type=number (which scrolls and rounds, per GOV.UK).
    beneficiaries_count = IntegerField(_l("How many people would benefit"), widget=TextInput(),
                                       render_kw={"inputmode": "numeric"},
                                       validators=[Optional(), NumberRange(min=1, max=100_000_000)])
    region = SelectField(_l("Region where the idea would be carried out"), validators=[Optional()],
                         choices=_region_choices())
    comuna = ComunaField(_l("Commune"), validators=[Optional()],
                         description=_l("The communes are grouped by region."))
    maturity = RadioField(_l("Maturity of the idea"), validators=[Optional()], validate_choice=False,
                          choices=label_choices(MADUREZ_LABELS))
    coproduction = TextAreaField(_l("Co-production with users"),
                                 validators=[Optional(), Length(max=LONG_TEXT)],
                                 description=_l("How the people the idea is for take part in designing and "
                                                "running it."))
    requested_amount = ClpField(_l("Amount requested (CLP)"), render_kw={"inputmode": "numeric"})
    team = TextAreaField(_l("Team"), validators=[Optional(), Length(max=LONG_TEXT)],
                         description=_l("Who would carry out the idea and what experience they bring."))
    save_draft = SubmitField(_l("Save draft"))
    # Files chosen here are attached when the draft is saved, so nothing needs a separate save first.
    archivo = MultipleFileField(
        _l("Attach files (optional)"),
        description=_l("PDF, PNG or JPEG, up to 10 MB each, at most 5 per submission. You can choose several "
                       "at once."),
        render_kw={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"})
    # Saves the draft and shows the review page; the idea is sent from there.
    review = SubmitField(_l("Save and review"))
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
