"""Forms of admissibility: the call's checklist, the lead's decision and answer, the applicant's request.

They check the shape of what was sent; the rules (phase, scope, deadline, once) live in
`convocatorias.admisibilidad`.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from convocatorias.admin_forms import MultiCheckboxField
from convocatorias.admisibilidad import MAX_TEXT_LENGTH
from convocatorias.admisibilidad_models import RequisitoAdmisibilidad
from idea.forms import SafeForm

YES, NO = "si", "no"


class RequisitosForm(SafeForm):
    """The checklist as text: one formal requirement per line."""

    requisitos = TextAreaField(_l("Formal requirements, one per line"),
                               validators=[InputRequired(message=_l("Write at least one requirement.")),
                                           Length(max=10_000)])


class DecisionForm(SafeForm):
    """The lead's decision on one submission."""

    admissible = RadioField(_l("Decision"), choices=[(YES, _l("Admissible")), (NO, _l("Not admissible"))],
                            validators=[InputRequired(message=_l("Choose a decision."))])
    requisitos = MultiCheckboxField(_l("Unmet requirements"), coerce=int, validators=[Optional()])
    reason = TextAreaField(_l("Reason for the refusal"), validators=[Optional(), Length(max=MAX_TEXT_LENGTH)])

    def __init__(self, requisitos: list[RequisitoAdmisibilidad], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requisitos.choices = [(r.id, r.text) for r in requisitos]


class RespuestaForm(SafeForm):
    """The lead's answer to a reconsideration."""

    accept = RadioField(_l("Answer"), choices=[(YES, _l("Accept: the submission becomes admissible")),
                                               (NO, _l("Reject: the submission stays not admissible"))],
                        validators=[InputRequired(message=_l("Choose an answer."))])
    answer = TextAreaField(_l("Reason for the answer"), validators=[Optional(), Length(max=MAX_TEXT_LENGTH)])


class ReconsideracionForm(SafeForm):
    """The applicant's request for reconsideration."""

    text = TextAreaField(_l("Why should the decision be reconsidered?"),
                         validators=[Optional(), Length(max=MAX_TEXT_LENGTH)])
