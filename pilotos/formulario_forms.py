"""Forms of the full form: repeatable rows without JavaScript (a few empty rows and an "add rows" button)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, FieldList, FormField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from convocatorias.admin_forms import DecimalClField
from convocatorias.forms import ClpField
from idea.forms import SafeForm, SafeSubform
from pilotos.formulario import (
    CATEGORIAS,
    MAX_ROWS,
    ActividadData,
    FormularioData,
    IndicadorData,
    LineaData,
    RiesgoData,
)

EXTRA_ROWS = 2
TEXT = [Optional(), Length(max=5000)]


class _Row(SafeSubform):
    def is_blank(self) -> bool:
        return all(not (f.raw_data and str(f.raw_data[0]).strip()) and f.data in (None, "") for f in self)


class LineaForm(_Row):
    item = StringField(_l("Item"), validators=[Optional(), Length(max=300)])
    category = SelectField(_l("Category"), validators=[Optional()])
    amount = ClpField(_l("Amount (pesos)"), validators=[Optional()], render_kw={"inputmode": "numeric"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = [("", _l("Choose…")), *((k, v) for k, v in CATEGORIAS.items())]

    def is_blank(self) -> bool:
        return (
            not (self.item.data or "").strip()
            and not self.category.data
            and self.amount.data is None
            and not (self.amount.raw_data and str(self.amount.raw_data[0]).strip())
        )


class IndicadorForm(_Row):
    name = StringField(_l("Indicator"), validators=[Optional(), Length(max=200)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=60)])
    baseline = DecimalClField(
        _l("Baseline (today)"), validators=[Optional()], render_kw={"inputmode": "decimal"}
    )
    target = DecimalClField(_l("Target"), validators=[Optional()], render_kw={"inputmode": "decimal"})


class ActividadForm(_Row):
    description = StringField(_l("Activity"), validators=[Optional(), Length(max=300)])
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])


class RiesgoForm(_Row):
    risk = StringField(_l("Risk"), validators=[Optional(), Length(max=500)])
    mitigation = StringField(_l("Mitigation"), validators=[Optional(), Length(max=500)])


class FormularioForm(SafeForm):
    problem = TextAreaField(
        _l("Problem"), validators=TEXT, description=_l("The problem, with data from the baseline.")
    )
    activities = TextAreaField(_l("Activities"), validators=TEXT, description=_l("What the team will do."))
    outputs = TextAreaField(_l("Outputs"), validators=TEXT, description=_l("What the activities produce."))
    outcomes = TextAreaField(
        _l("Outcomes"), validators=TEXT, description=_l("The changes the outputs bring.")
    )
    impact = TextAreaField(_l("Impact"), validators=TEXT, description=_l("The lasting change you aim for."))
    lineas = FieldList(FormField(LineaForm), min_entries=0, max_entries=MAX_ROWS + EXTRA_ROWS)
    indicadores = FieldList(FormField(IndicadorForm), min_entries=0, max_entries=MAX_ROWS + EXTRA_ROWS)
    actividades = FieldList(FormField(ActividadForm), min_entries=0, max_entries=MAX_ROWS + EXTRA_ROWS)
    riesgos = FieldList(FormField(RiesgoForm), min_entries=0, max_entries=MAX_ROWS + EXTRA_ROWS)
    save = SubmitField(_l("Save draft"))
    add_rows = SubmitField(_l("Add rows"))
    send = SubmitField(_l("Send to the lead"))

    def pad(self) -> None:
        """The filled rows plus a few empty ones (no JavaScript needed)."""
        for name in ("lineas", "indicadores", "actividades", "riesgos"):
            rows: FieldList = self[name]
            filled = sum(1 for e in rows.entries if not e.form.is_blank())
            while len(rows.entries) < min(filled + EXTRA_ROWS, MAX_ROWS + EXTRA_ROWS):
                rows.append_entry()

    def to_data(self) -> FormularioData:
        def rows(name: str) -> list[Any]:
            return [e.form for e in self[name].entries if not e.form.is_blank()]

        return FormularioData(
            problem=(self.problem.data or "").strip(),
            activities=(self.activities.data or "").strip(),
            outputs=(self.outputs.data or "").strip(),
            outcomes=(self.outcomes.data or "").strip(),
            impact=(self.impact.data or "").strip(),
            lineas=[
                LineaData((f.item.data or "").strip(), f.category.data or "", f.amount.data)
                for f in rows("lineas")
            ],
            indicadores=[
                IndicadorData(
                    (f.name.data or "").strip(), (f.unit.data or "").strip(), f.baseline.data, f.target.data
                )
                for f in rows("indicadores")
            ],
            actividades=[
                ActividadData((f.description.data or "").strip(), f.starts_on.data, f.ends_on.data)
                for f in rows("actividades")
            ],
            riesgos=[
                RiesgoData((f.risk.data or "").strip(), (f.mitigation.data or "").strip())
                for f in rows("riesgos")
            ],
        )


def initial(data: FormularioData) -> dict[str, Any]:
    return {
        "problem": data.problem,
        "activities": data.activities,
        "outputs": data.outputs,
        "outcomes": data.outcomes,
        "impact": data.impact,
        "lineas": [{"item": r.item, "category": r.category, "amount": r.amount} for r in data.lineas],
        "indicadores": [
            {"name": r.name, "unit": r.unit, "baseline": r.baseline, "target": r.target}
            for r in data.indicadores
        ],
        "actividades": [
            {"description": r.description, "starts_on": r.starts_on, "ends_on": r.ends_on}
            for r in data.actividades
        ],
        "riesgos": [{"risk": r.risk, "mitigation": r.mitigation} for r in data.riesgos],
    }


class ReviewForm(SafeForm):
    comment = TextAreaField(
        _l("Comment for the team"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Required when you send the form back: say what to change."),
    )
    send_back = SubmitField(_l("Send back for changes"))
    accept = SubmitField(_l("Accept the form"))
