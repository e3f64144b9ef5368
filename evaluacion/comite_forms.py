"""Forms of the committee's pages: ranking filters, a member's conflict declaration, the selection rules."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from convocatorias.admin_forms import DecimalClField
from convocatorias.models import Convocatoria
from evaluacion.comite_models import Objetivo
from evaluacion.models import TipoConflicto
from idea.chile import region_choices
from idea.forms import FilterForm, SafeForm

# Orders of the ranking table: query value -> (sort key over FilaRanking, label).
RANKING_ORDERS = ("final", "interno", "votos", "folio")


class RankingFilterForm(FilterForm):
    region = SelectField(_l("Region"), validators=[Optional()])
    desafio = SelectField(_l("Challenge"), validators=[Optional()])
    orden = SelectField(_l("Order by"), validators=[Optional()])
    elegibles = BooleanField(_l("Only eligible submissions"))

    def __init__(self, convocatoria: Convocatoria, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        every_masculine = pgettext("filter over a masculine noun", "All")
        every_feminine = pgettext("filter over a feminine noun", "All")
        self.region.choices = [("", every_feminine), *region_choices()]
        self.desafio.choices = [("", every_masculine)] + [(str(d.id), d.title) for d in convocatoria.desafios]
        self.orden.choices = [
            ("final", _l("Final score")),
            ("interno", _l("Internal score")),
            ("votos", _l("Votes")),
            ("folio", _l("Folio")),
        ]

    def value(self, name: str) -> str | None:
        field = self[name]
        return field.data if field.data and field.validate(self) else None


class ComiteConflictForm(SafeForm):
    tipo = SelectField(
        _l("The conflict is with"),
        choices=[
            ("", _l("Choose one")),
            (TipoConflicto.POSTULACION.value, _l("A submission (folio)")),
            (TipoConflicto.ORGANIZACION.value, _l("An organisation (RUT)")),
        ],
        validators=[InputRequired()],
    )
    value = StringField(
        _l("Folio or RUT"),
        validators=[InputRequired(), Length(max=30)],
        description=_l("A folio such as IDEA-2025-0012, or a RUT such as 76.123.456-0."),
    )
    note = TextAreaField(_l("Why (optional)"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Declare conflict"))


class ReglasForm(SafeForm):
    objective = RadioField(
        _l("Objective of the selection"),
        choices=[
            (Objetivo.RANK.value, _l("Rank order: a lower-ranked idea only when a higher one cannot fit")),
            (Objetivo.TOTAL.value, _l("Most total score")),
        ],
        validators=[InputRequired()],
    )
    max_per_challenge = IntegerField(
        _l("Maximum projects per challenge"),
        validators=[Optional(), NumberRange(min=1, max=10_000)],
        description=_l("Leave empty for no maximum."),
    )
    max_count = IntegerField(
        _l("Maximum number of projects"),
        validators=[Optional(), NumberRange(min=1, max=10_000)],
        description=_l("Leave empty for no maximum."),
    )
    quorum = IntegerField(
        _l("Quorum (members present needed to decide)"),
        default=2,
        validators=[InputRequired(), NumberRange(min=1, max=100)],
    )
    min_final_score = DecimalClField(
        _l("Minimum final score for selection"),
        validators=[InputRequired(), NumberRange(min=0, max=100)],
        description=_l("On the rubric's scale; the final score combines the internal score and the vote."),
    )
    share_feedback = BooleanField(_l("Send each applicant the anonymous feedback of their reviewers"))
    submit = SubmitField(_l("Save rules"))
