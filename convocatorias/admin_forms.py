"""Admin forms for calls and challenges: CLP amounts, Santiago date-times and repeatable indicator rows."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    Field,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from convocatorias.models import Desafio, GrupoVulnerable
from convocatorias.operations import (
    PHASE_DATE_LABELS,
    ConvocatoriaData,
    ConvocatoriaError,
    DesafioData,
    IndicadorData,
)
from convocatorias.queries import format_decimal_es
from idea import chile
from idea.forms import SafeForm, SafeSubform

# The years a phase date may fall in: a call's year is within them too. Beyond, a typo (0202, 9999) would
# be kept, and near the year 9999 converting Santiago time to UTC overflows.
FIRST_YEAR, LAST_YEAR = 2000, 2100

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows
_LOCAL_FORMATS = (LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")

# Deadlines include the whole minute typed ("23:59" closes at 23:59:59) and a bare date means the end of
# that day; the other phase dates start at the minute typed, or at 00:00 for a bare date.
INCLUSIVE_END_DATES = frozenset({"submissions_close_at", "admissibility_end_at", "evaluation_end_at",
                                 "vote_close_at"})


# --- fields ------------------------------------------------------------------------------------------

class ClpField(StringField):
    """An amount of whole pesos typed as "$20.000.000" or "20000000"; data is an int."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        render_kw = {"inputmode": "numeric", "autocomplete": "off", **kwargs.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_data(self, value: Any) -> None:
        self.data = value if isinstance(value, int) and not isinstance(value, bool) else None

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        text = valuelist[0].strip()
        if not text:
            self.data = None
            return
        if text.startswith("-"):
            self.data = None
            raise ValueError(_l("Enter an amount of zero or more."))
        try:
            self.data = chile.parse_clp(text)
        except ValueError as exc:
            self.data = None
            if re.search(r"[.,]\d{1,2}$", text):
                raise ValueError(_l("Enter the amount in whole pesos, without cents.")) from exc
            raise ValueError(
                _l("Enter the amount in pesos using digits only, for example $20.000.000.")) from exc
        if self.data > 10**15:
            self.data = None
            raise ValueError(_l("The amount is too large."))

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return chile.format_clp(self.data) if self.data is not None else ""


def _local_text(value: datetime | None) -> str:
    return chile.to_santiago(value).strftime(LOCAL_FORMAT) if value is not None else ""


class SantiagoDateTimeField(Field):
    """A date and time typed in America/Santiago (datetime-local input); data is an aware UTC datetime."""

    widget = widgets.DateTimeLocalInput()

    def __init__(self, label: Any = None, validators: Any = None, *, inclusive_end: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.inclusive_end = inclusive_end

    notice: str | None = None  # set when the time typed does not exist in Chile or happens twice

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return _local_text(self.data)

    def process_formdata(self, valuelist: list[str]) -> None:
        self.notice = None
        if not valuelist:
            return
        text = valuelist[0].strip()
        self.data = None
        if not text:
            return
        if self.object_data is not None and text == _local_text(self.object_data):
            # Unchanged on screen: keep the stored instant (seconds included), so nothing spurious is audited.
            self.data = self.object_data
            return
        local = _parse_local(text)
        if local is None:
            raise ValueError(_l("Enter a date and time, for example 2026-05-31 23:59."))
        typed, with_seconds, bare_date = local
        _check_year(typed.year)
        if bare_date and self.inclusive_end:
            typed = typed.replace(hour=23, minute=59)
        wall = typed
        if self.inclusive_end and not with_seconds:
            wall = typed.replace(second=59)  # a deadline includes its whole minute (a bare date: its day)
        # A deadline takes the later of two equal wall times, whatever precision was typed.
        self.data = chile.from_santiago(wall, later=self.inclusive_end)
        self.notice = _time_notice(str(self.label.text), typed, with_seconds, self.data,
                                   later=self.inclusive_end)


def _parse_local(text: str) -> tuple[datetime, bool, bool] | None:
    """The Santiago wall time typed (a bare date: 00:00), whether seconds were typed, whether a bare date."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None:
        return datetime.combine(day, time.min), False, True
    for fmt in _LOCAL_FORMATS:
        try:
            local = datetime.strptime(text, fmt)  # noqa: DTZ007 - a Santiago wall-clock time
            return local, "%S" in fmt, False
        except ValueError:
            continue
    return None


def _time_notice(field: str, typed: datetime, with_seconds: bool, stored: datetime, *,
                 later: bool) -> str | None:
    """What the admin must be told when the time typed does not exist in Chile or happens twice."""
    clock = "%H:%M:%S" if with_seconds else "%H:%M"
    if not chile.exists_in_santiago(typed):
        return _(
            "%(field)s: the time %(time)s on %(date)s does not exist in Chile (clocks go forward); "
            "%(stored)s was saved.", field=field, time=f"{typed:{clock}}", date=f"{typed:%d-%m-%Y}",
            stored=f"{chile.to_santiago(stored):{clock}}")
    if chile.is_ambiguous_in_santiago(typed):
        if later:
            return _("%(field)s: the time %(time)s on %(date)s happens twice in Chile (clocks go back); the "
                     "second one was saved, so the deadline closes as late as possible.",
                     field=field, time=f"{typed:{clock}}", date=f"{typed:%d-%m-%Y}")
        return _("%(field)s: the time %(time)s on %(date)s happens twice in Chile (clocks go back); the "
                 "first one was saved.", field=field, time=f"{typed:{clock}}", date=f"{typed:%d-%m-%Y}")
    return None


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(_l("Enter a date between the years %(first)s and %(last)s.", first=FIRST_YEAR,
                            last=LAST_YEAR))


_DECIMAL_THOUSANDS = re.compile(r"^-?[1-9][0-9]{0,2}(?:\.[0-9]{3})+$")


def parse_decimal_cl(text: str) -> Decimal:
    """Parse "12,5", "1.234,5", "1.500" (thousands) or "12.5" into a Decimal; ValueError otherwise."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif _DECIMAL_THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(".", "")
    if not re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?", cleaned):
        raise ValueError(text)
    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(text) from exc


class DecimalClField(StringField):
    """A number typed with a decimal comma; data is a Decimal with at most 4 decimals."""

    def process_data(self, value: Any) -> None:
        self.data = Decimal(str(value)) if value is not None else None

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        text = valuelist[0].strip()
        self.data = None
        if not text:
            return
        try:
            number = parse_decimal_cl(text)
        except ValueError as exc:
            raise ValueError(_l("Enter a number, with a decimal comma if needed, for example 12,5.")) from exc
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -4:
            raise ValueError(_l("Use at most four decimals."))
        if abs(number) >= Decimal(10) ** 14:
            raise ValueError(_l("The number is too large."))
        self.data = number

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return format_decimal_es(self.data)


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


# --- calls -------------------------------------------------------------------------------------------

def _date_field(name: str) -> SantiagoDateTimeField:
    inclusive = name in INCLUSIVE_END_DATES
    return SantiagoDateTimeField(
        PHASE_DATE_LABELS[name], validators=[Optional()], inclusive_end=inclusive,
        description=_l("Chilean time. A date alone means the end of that day.") if inclusive else None,
    )


class ConvocatoriaForm(SafeForm):
    """Create or edit a call: texts, money rules and phase dates (typed in Chilean time)."""

    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=FIRST_YEAR, max=LAST_YEAR)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=400)],
                            description=_l("One or two sentences shown in the list of calls."))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    rules = TextAreaField(_l("Rules"), validators=[Optional(), Length(max=50000)])
    total_budget = ClpField(_l("Total budget"), validators=[InputRequired()],
                            description=_l("In pesos, for example $650.000.000."))
    min_amount = ClpField(_l("Minimum amount per project"), validators=[InputRequired()])
    max_amount = ClpField(_l("Maximum amount per project"), validators=[InputRequired()])
    max_submissions_per_org = IntegerField(_l("Maximum submissions per organisation"), default=1,
                                           validators=[InputRequired(), NumberRange(min=1, max=100)])
    vote_weight = IntegerField(_l("Weight of the public vote (%)"), default=10,
                               validators=[InputRequired(), NumberRange(min=0, max=100)],
                               description=_l("Share of the public vote in the final score, from 0 to 100."))
    submissions_open_at = _date_field("submissions_open_at")
    submissions_close_at = _date_field("submissions_close_at")
    admissibility_end_at = _date_field("admissibility_end_at")
    evaluation_end_at = _date_field("evaluation_end_at")
    vote_open_at = _date_field("vote_open_at")
    vote_close_at = _date_field("vote_close_at")
    committee_at = _date_field("committee_at")
    training_start_at = _date_field("training_start_at")
    execution_start_at = _date_field("execution_start_at")
    closing_at = _date_field("closing_at")
    submit = SubmitField(_l("Save"))

    date_field_names = tuple(PHASE_DATE_LABELS)

    def time_notices(self) -> list[str]:
        """What to tell the admin about Chilean clock changes in the dates just typed."""
        return [notice for name in self.date_field_names if (notice := self[name].notice)]

    def to_data(self) -> ConvocatoriaData:
        values = {name: self[name].data for name in ConvocatoriaData.__dataclass_fields__}
        for name in ("summary", "description", "rules"):
            values[name] = values[name] or ""
        return ConvocatoriaData(**values)


def default_year() -> int:
    return chile.to_santiago(chile.utcnow()).year


# --- challenges --------------------------------------------------------------------------------------

INDICATOR_ROWS_EXTRA = 3
INDICATOR_ROWS_MAX = 40
_INDICATOR_REQUIRED = ("name", "unit", "value", "source")


class IndicadorForm(SafeSubform):
    """One baseline indicator row; a row left completely empty is ignored."""

    name = StringField(_l("Indicator"), validators=[Optional(), Length(max=200)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=60)],
                       description=_l("For example %, people, households."))
    value = DecimalClField(_l("Current value"), validators=[Optional()],
                           render_kw={"inputmode": "decimal"})
    source = StringField(_l("Source"), validators=[Optional(), Length(max=300)])
    measured_on = DateField(_l("Date of the measurement"), validators=[Optional()])

    def is_blank(self) -> bool:
        return all(not (f.raw_data and f.raw_data[0].strip()) and f.data in (None, "") for f in self)

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.is_blank():
            return ok
        for name in _INDICATOR_REQUIRED:
            field = self[name]
            empty = field.data is None or (isinstance(field.data, str) and not field.data.strip())
            if empty and not field.errors:
                field.errors.append(_l("Fill in this field, or empty the whole row."))
                ok = False
        return ok

    def to_data(self) -> IndicadorData:
        return IndicadorData(name=self.name.data, unit=self.unit.data, value=self.value.data,
                             source=self.source.data, measured_on=self.measured_on.data)


class DesafioForm(SafeForm):
    """Create or edit a challenge: the problem in plain words, scope and baseline indicators."""

    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    problem = TextAreaField(_l("The problem in plain words"), validators=[Optional(), Length(max=20000)],
                            description=_l("Who is affected, how, and why it matters. Avoid jargon."))
    grupo_vulnerable_id = SelectField(_l("Vulnerable group"), validators=[Optional()])
    partner_institution = StringField(_l("Partner institution"), validators=[Optional(), Length(max=200)])
    is_national = BooleanField(_l("National: open to every region"), default=True)
    regions = MultiCheckboxField(_l("Regions"), validators=[Optional()],
                                 description=_l("When the challenge is not national, choose at least one."))
    indicadores = FieldList(FormField(IndicadorForm), min_entries=INDICATOR_ROWS_EXTRA,
                            max_entries=INDICATOR_ROWS_MAX)
    submit = SubmitField(_l("Save challenge"))

    def __init__(self, *args: Any, grupos: list[GrupoVulnerable], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.grupo_vulnerable_id.choices = [SelectChoice("", _l("Not specified"))] + [
            SelectChoice(str(g.id), g.name) for g in grupos
        ]
        self.regions.choices = [SelectChoice(code, name) for code, name in chile.region_choices()]

    def pad_indicators(self) -> None:
        """Show the existing rows plus a few empty ones to fill in (no JavaScript needed)."""
        filled = sum(1 for entry in self.indicadores.entries if not entry.form.is_blank())
        while len(self.indicadores.entries) < min(filled + INDICATOR_ROWS_EXTRA, INDICATOR_ROWS_MAX):
            self.indicadores.append_entry()

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if not self.is_national.data and not self.regions.data and not self.regions.errors:
            self.regions.errors.append(_l("Choose at least one region, or mark the challenge as national."))
            ok = False
        return ok

    def to_data(self) -> DesafioData:
        grupo = self.grupo_vulnerable_id.data
        return DesafioData(
            title=self.title.data or "",
            problem=self.problem.data or "",
            grupo_vulnerable_id=int(grupo) if grupo else None,
            partner_institution=self.partner_institution.data,
            is_national=bool(self.is_national.data),
            regions=list(self.regions.data or []),
            indicators=[e.form.to_data() for e in self.indicadores.entries if not e.form.is_blank()],
        )


def desafio_initial(desafio: Desafio) -> dict[str, Any]:
    """The form data of an existing challenge."""
    return {
        "title": desafio.title,
        "problem": desafio.problem,
        "grupo_vulnerable_id": str(desafio.grupo_vulnerable_id) if desafio.grupo_vulnerable_id else "",
        "partner_institution": desafio.partner_institution or "",
        "is_national": desafio.is_national,
        "regions": desafio.region_codes,
        "indicadores": [
            {"name": i.name, "unit": i.unit, "value": i.value, "source": i.source,
             "measured_on": i.measured_on}
            for i in desafio.indicadores
        ],
    }


class FaseForm(SafeForm):
    """The button that moves a call to its next phase."""

    target = HiddenField(validators=[InputRequired()])


def put_errors(form: SafeForm, error: ConvocatoriaError) -> list[str]:
    """Attach an operation's refusals to their fields; return the messages that belong to no field."""
    general = []
    for problem in error.problems:
        field = form._fields.get(problem.field) if problem.field else None  # noqa: SLF001
        if field is not None:
            field.errors = [*field.errors, problem.message]
        else:
            general.append(problem.message)
    return general

