"""Forms of the systematization sheet, its review and the repository's e-mail subscription."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from convocatorias.admin_forms import MultiCheckboxField
from idea.forms import SafeForm
from pilotos import aprendizaje as aops

TEXT = [Optional(), Length(max=aops.MAX_TEXT)]


class SistematizacionForm(SafeForm):
    problem = TextAreaField(
        _l("Problem"), validators=TEXT, description=_l("The problem the pilot addressed, with its baseline.")
    )
    solution = TextAreaField(
        _l("Solution"), validators=TEXT, description=_l("What the pilot did and with whom.")
    )
    results = TextAreaField(
        _l("Results against the baseline"),
        validators=TEXT,
        description=_l(
            "What changed, in the pilot's indicators; the figures of the approved reports are shown."
        ),
    )
    learnings = TextAreaField(
        _l("What the pilot learnt"),
        validators=TEXT,
        description=_l("What worked, what did not, what surprised you."),
    )
    scaling_conditions = TextAreaField(
        _l("Conditions for scaling"),
        validators=TEXT,
        description=_l("What a programme would need to run it at a larger scale."),
    )
    adopter = SelectField(_l("Programme or ministry that could adopt it"), validators=[Optional()])
    adopter_other = StringField(
        _l("Another programme or institution"), validators=[Optional(), Length(max=300)]
    )
    groups = MultiCheckboxField(_l("Vulnerable groups"), validators=[Optional()])
    outcome = RadioField(_l("What should happen with the pilot"), validators=[Optional()])
    save = SubmitField(_l("Save draft"))
    send = SubmitField(_l("Send to the lead"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.adopter.choices = [("", _l("Choose…")), *aops.ADOPTERS.items()]
        self.groups.choices = list(aops.GRUPOS.items())
        self.outcome.choices = list(aops.OUTCOMES.items())

    def to_data(self) -> aops.SheetData:
        return aops.SheetData(
            problem=self.problem.data or "",
            solution=self.solution.data or "",
            results=self.results.data or "",
            learnings=self.learnings.data or "",
            scaling_conditions=self.scaling_conditions.data or "",
            adopter=self.adopter.data or "",
            adopter_other=self.adopter_other.data or "",
            groups=tuple(self.groups.data or ()),
            outcome=self.outcome.data or "",
        )


class RevisionForm(SafeForm):
    comment = TextAreaField(
        _l("Comment for the team"),
        validators=[Optional(), Length(max=aops.MAX_TEXT)],
        description=_l("Required to send the sheet back."),
    )
    send_back = SubmitField(_l("Send back for changes"))
    publish = SubmitField(_l("Publish the sheet"))


class SuscripcionForm(SafeForm):
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)]
    )
    topic = SelectField(_l("New sheets about"), validators=[DataRequired()])
    submit = SubmitField(_l("Subscribe"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.topic.choices = [("", _l("Choose…")), *aops.topic_choices()]
