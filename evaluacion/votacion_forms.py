"""Forms of the popular vote: the voter's request (no account) and the lead's settings."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, IntegerField, RadioField, StringField, SubmitField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from convocatorias.admin_forms import SantiagoDateTimeField
from convocatorias.operations import PHASE_DATE_LABELS
from evaluacion.votacion import MAX_VOTES_LIMIT, VotacionData
from evaluacion.votacion_models import ConfiguracionVotacion, ModoPreseleccion
from idea.forms import SafeForm


class VoteForm(SafeForm):
    """RUT, e-mail and the data-use notice; `website` is a honeypot that people never see or fill."""

    rut = StringField(
        _l("RUT"),
        validators=[InputRequired(message=_l("Enter your RUT.")), Length(max=20)],
        description=_l(
            "For example 12.345.678-5. It identifies you so that each person votes once; we keep "
            "only an encrypted fingerprint of it, never the RUT itself."
        ),
    )
    email = EmailField(
        _l("E-mail"),
        validators=[InputRequired(message=_l("Enter your e-mail.")), Email(), Length(max=254)],
        description=_l("We send the link that confirms your vote here."),
    )
    accepted = BooleanField(
        _l("I have read the notice on the use of my data and I accept it."),
        validators=[InputRequired(message=_l("To vote you must accept the notice on the use of your data."))],
    )
    website = StringField(_l("Leave this field empty"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Vote for this idea"))


MODE_LABELS = {
    ModoPreseleccion.TODAS: _l("Every admissible submission"),
    ModoPreseleccion.MEJORES: _l("The best submissions of each challenge by internal score"),
}


class VotacionSettingsForm(SafeForm):
    """How the shortlist is made, how many votes each person has, whether counts show, and the window."""

    mode = RadioField(
        _l("Shortlist"),
        choices=[(m.value, MODE_LABELS[m]) for m in ModoPreseleccion],
        validators=[InputRequired()],
    )
    top_n = IntegerField(
        _l("Submissions per challenge"),
        validators=[Optional(), NumberRange(min=1, max=10_000)],
        description=_l("Only for the best submissions of each challenge."),
    )
    max_votes_per_person = IntegerField(
        _l("Votes per person"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_VOTES_LIMIT)],
        description=_l("How many different ideas one person may vote for (one vote per idea)."),
    )
    show_counts = BooleanField(_l("Show the counts during the vote"))
    vote_open_at = SantiagoDateTimeField(
        PHASE_DATE_LABELS["vote_open_at"], validators=[Optional()], description=_l("Chilean time.")
    )
    vote_close_at = SantiagoDateTimeField(
        PHASE_DATE_LABELS["vote_close_at"],
        validators=[Optional()],
        inclusive_end=True,
        description=_l("Chilean time. A date alone means the end of that day."),
    )
    submit = SubmitField(_l("Save"))

    @classmethod
    def for_call(
        cls, config: ConfiguracionVotacion, convocatoria: Any, **kwargs: Any
    ) -> VotacionSettingsForm:
        return cls(
            data={
                "mode": config.mode.value,
                "top_n": config.top_n,
                "max_votes_per_person": config.max_votes_per_person,
                "show_counts": config.show_counts,
                "vote_open_at": convocatoria.vote_open_at,
                "vote_close_at": convocatoria.vote_close_at,
            },
            **kwargs,
        )

    def to_data(self) -> VotacionData:
        return VotacionData(
            mode=ModoPreseleccion(self.mode.data),
            top_n=self.top_n.data,
            max_votes_per_person=self.max_votes_per_person.data or 1,
            show_counts=bool(self.show_counts.data),
            vote_open_at=self.vote_open_at.data,
            vote_close_at=self.vote_close_at.data,
        )
