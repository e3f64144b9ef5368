"""Forms of the committee session pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from convocatorias.admin_forms import MultiCheckboxField
from evaluacion.comite_models import Objetivo, Override, Resultado
from idea.forms import SafeForm

OBJECTIVE_LABELS = {
    Objetivo.RANK: _l("Rank order"),
    Objetivo.TOTAL: _l("Most total score"),
}
OUTCOME_LABELS = {
    Resultado.SELECCIONADA: _l("Selected"),
    Resultado.LISTA_ESPERA: _l("Waitlist"),
    Resultado.NO_SELECCIONADA: _l("Not selected"),
    Resultado.DECLINADA: _l("Declined"),
}
OVERRIDE_LABELS = {
    Override.INCLUIR: _l("Must include"),
    Override.EXCLUIR: _l("Must exclude"),
}


class OpenSessionForm(SafeForm):
    place = StringField(_l("Place (optional)"), validators=[Optional(), Length(max=200)])
    notes = TextAreaField(_l("Notes (optional)"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Open a session"))


class AttendanceForm(SafeForm):
    present = MultiCheckboxField(_l("Members present"), coerce=int, validators=[Optional()])
    submit = SubmitField(_l("Record attendance"))


class SolverForm(SafeForm):
    objective = RadioField(
        _l("Proposal"),
        choices=[(o.value, OBJECTIVE_LABELS[o]) for o in Objetivo],
        validators=[InputRequired()],
        default=Objetivo.RANK.value,
    )
    submit = SubmitField(_l("Run the solver"))


class OverrideForm(SafeForm):
    folio = StringField(
        _l("Submission folio"),
        validators=[InputRequired(), Length(max=30)],
        description=_l("As IDEA-2026-00012."),
    )
    kind = SelectField(
        _l("Override"),
        choices=[("", _l("Choose one"))] + [(k.value, OVERRIDE_LABELS[k]) for k in Override],
        validators=[InputRequired()],
    )
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=2000)])
    submit = SubmitField(_l("Add override"))


class ApplyForm(SafeForm):
    corrida = StringField(validators=[InputRequired(), Length(max=12)])
    submit = SubmitField(_l("Apply this proposal"))


class DecisionForm(SafeForm):
    outcome = SelectField(
        _l("Decision"),
        choices=[(r.value, OUTCOME_LABELS[r]) for r in Resultado],
        validators=[InputRequired()],
    )
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=2000)])
    submit = SubmitField(_l("Save decision"))


class CloseForm(SafeForm):
    confirm = BooleanField(
        _l("I confirm: once closed, no decision of this session can change."), validators=[InputRequired()]
    )
    submit = SubmitField(_l("Close the session"))
