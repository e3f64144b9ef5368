"""Forms of the training phase."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from convocatorias.admin_forms import SantiagoDateTimeField
from idea.forms import SafeForm
from pilotos.operations import ModuloData, TallerData, parse_items


class InviteForm(SafeForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Email(), Length(max=254)])
    submit = SubmitField(_l("Send invitation"))


class TallerForm(SafeForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    topic = TextAreaField(_l("Topic"), validators=[Optional(), Length(max=2000)])
    region = SelectField(_l("Region"), validators=[Optional()])
    starts_at = SantiagoDateTimeField(
        _l("Starts"), validators=[InputRequired()], description=_l("Chilean time.")
    )
    ends_at = SantiagoDateTimeField(_l("Ends"), validators=[InputRequired()], description=_l("Chilean time."))
    place = StringField(
        _l("Place"),
        validators=[Optional(), Length(max=300)],
        description=_l("Address of the venue, or leave empty for an online workshop."),
    )
    online_url = StringField(
        _l("Online link"),
        validators=[Optional(), Length(max=500)],
        description=_l("A web address starting with https://"),
    )
    capacity = IntegerField(
        _l("Capacity (teams)"), validators=[InputRequired(), NumberRange(min=1, max=1000)]
    )
    submit = SubmitField(_l("Save workshop"))

    def __init__(self, *args: Any, region_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region.choices = region_choices

    def to_data(self) -> TallerData:
        return TallerData(
            title=(self.title.data or "").strip(),
            topic=(self.topic.data or "").strip(),
            region=self.region.data or None,
            starts_at=self.starts_at.data,
            ends_at=self.ends_at.data,
            place=(self.place.data or "").strip(),
            online_url=(self.online_url.data or "").strip(),
            capacity=self.capacity.data or 0,
        )


class ModuloForm(SafeForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    body = TextAreaField(
        _l("Content"),
        validators=[Optional(), Length(max=50_000)],
        description=_l("Markdown: **bold**, lists with -, links [text](https://...)."),
    )
    items = TextAreaField(
        _l("Checklist"), validators=[InputRequired(), Length(max=6000)], description=_l("One item per line.")
    )
    required = BooleanField(_l("Required to complete the training"), default=True)
    position = IntegerField(_l("Order"), validators=[Optional(), NumberRange(min=0, max=1000)], default=0)
    submit = SubmitField(_l("Save module"))

    def to_data(self) -> ModuloData:
        return ModuloData(
            title=(self.title.data or "").strip(),
            body=self.body.data or "",
            required=bool(self.required.data),
            items=parse_items(self.items.data or ""),
            position=self.position.data or 0,
        )
