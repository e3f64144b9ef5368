"""Forms of the mentoring: a mentor's directory entry, a declared conflict, a confirmed match, a logged
session and a comment."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from convocatorias.admin_forms import MultiCheckboxField
from idea.chile import region_choices
from idea.forms import SafeForm
from pilotos import mentoria_rules as rules
from pilotos.mentoria import MentorData, SesionData
from pilotos.mentoria_models import TipoOrganizacionMentor

KIND_LABELS = {
    TipoOrganizacionMentor.UNIVERSIDAD: _l("University"),
    TipoOrganizacionMentor.EMPRESA: _l("Company"),
    TipoOrganizacionMentor.ORGANISMO_PUBLICO: _l("Public body"),
    TipoOrganizacionMentor.SOCIEDAD_CIVIL: _l("Pro bono / civil society"),
}


def kind_label(kind: TipoOrganizacionMentor | str) -> str:
    return str(KIND_LABELS.get(TipoOrganizacionMentor(kind), kind))


class MentorForm(SafeForm):
    email = EmailField(
        _l("E-mail of the mentor's account"),
        validators=[Optional(), Email(), Length(max=254)],
        description=_l("The person needs an account on the platform."),
    )
    organization = StringField(_l("Organisation"), validators=[InputRequired(), Length(max=200)])
    kind = SelectField(
        _l("Kind of organisation"),
        validators=[InputRequired()],
        choices=[(k.value, label) for k, label in KIND_LABELS.items()],
    )
    tags = MultiCheckboxField(
        _l("Expertise"),
        validators=[Optional()],
        choices=[(slug, label) for slug, (label, _k) in rules.TAGS.items()],
    )
    free_tags = StringField(
        _l("Other expertise"),
        validators=[Optional(), Length(max=400)],
        description=_l("Comma separated, for example: turismo rural, economía circular."),
    )
    region = SelectField(_l("Region"), validators=[Optional()])
    capacity = IntegerField(_l("Capacity (teams)"), validators=[InputRequired(), NumberRange(min=1, max=20)])
    bio = TextAreaField(_l("About the mentor"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Save mentor"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region.choices = [("", _l("Any region"))] + region_choices()

    def to_data(self) -> MentorData:
        return MentorData(
            organization=(self.organization.data or "").strip(),
            kind=TipoOrganizacionMentor(self.kind.data),
            tags=rules.clean_tags(self.tags.data or [], self.free_tags.data or ""),
            region=self.region.data or None,
            capacity=self.capacity.data or 0,
            bio=(self.bio.data or "").strip(),
        )


class ConflictForm(SafeForm):
    equipo_id = SelectField(_l("Team"), validators=[Optional()])
    rut = StringField(
        _l("RUT of an organisation"),
        validators=[Optional(), Length(max=15)],
        description=_l("For example 65.123.456-5: every team of that organisation."),
    )
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("Declare conflict"))

    def __init__(self, *args: Any, team_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.equipo_id.choices = [("", _l("No team (an organisation)"))] + team_choices


class MatchForm(SafeForm):
    mentor_id = SelectField(_l("Mentor"), validators=[InputRequired()])
    start_date = DateField(
        _l("Start date"), validators=[InputRequired()], description=_l("The first of the eight weekly slots.")
    )
    submit = SubmitField(_l("Confirm mentor"))

    def __init__(self, *args: Any, mentor_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mentor_id.choices = [("", _l("Choose a mentor"))] + mentor_choices


class SesionForm(SafeForm):
    held_on = DateField(_l("Date"), validators=[InputRequired()])
    duration_minutes = IntegerField(
        _l("Duration (minutes)"), validators=[InputRequired(), NumberRange(min=1, max=600)]
    )
    topics = TextAreaField(_l("Topics"), validators=[InputRequired(), Length(max=4000)])
    agreements = TextAreaField(_l("Agreements"), validators=[Optional(), Length(max=4000)])
    next_steps = TextAreaField(_l("Next steps"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Log session"))

    def to_data(self) -> SesionData:
        return SesionData(
            held_on=self.held_on.data,
            duration_minutes=self.duration_minutes.data,
            topics=self.topics.data or "",
            agreements=self.agreements.data or "",
            next_steps=self.next_steps.data or "",
        )


class CommentForm(SafeForm):
    body = TextAreaField(_l("Comment"), validators=[InputRequired(), Length(max=2000)])
    submit = SubmitField(_l("Comment"))
