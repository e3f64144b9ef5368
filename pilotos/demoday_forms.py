"""Forms of the demo day."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional

from convocatorias.forms import ClpField
from idea import chile
from idea.forms import SafeForm
from pilotos.demoday import HELICES


class DemoDayForm(SafeForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    region = SelectField(_l("Region"), validators=[Optional()])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=300)])
    budget = ClpField(
        _l("Remaining budget to award"), validators=[InputRequired()], render_kw={"inputmode": "numeric"}
    )
    submit = SubmitField(_l("Create demo day"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region.choices = [("", _l("Every region of the call")), *chile.region_choices()]


class JuradoForm(SafeForm):
    email = EmailField(_l("Juror's e-mail"), validators=[InputRequired(), Email(), Length(max=254)])
    helix = SelectField(_l("Helix"), validators=[InputRequired()])
    organization = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Add juror"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helix.choices = list(HELICES.items())


class ConflictoForm(SafeForm):
    reason = TextAreaField(_l("What is the conflict?"), validators=[InputRequired(), Length(max=2000)])
    submit = SubmitField(_l("Declare conflict and recuse me"))
