"""Forms of the evaluation phase; the per-criterion ones are built from the call's rubric."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from evaluacion.models import Rubrica, TipoConflicto
from idea.chile import region_choices
from idea.forms import SafeForm, SafeSubform


def _level_choices(rubrica: Rubrica, criterio: Any) -> list[tuple[str, str]]:
    choices = []
    for level in rubrica.levels:
        text = criterio.level_description(level)
        choices.append((str(level), f"{level} — {text}" if text else str(level)))
    return choices


def score_form(rubrica: Rubrica, *, with_comments: bool = True, **kwargs: Any) -> SafeForm:
    """A radio group per criterion (the level descriptions beside each value), a comment per criterion and an
    overall comment; `save` keeps a draft, `send` submits."""

    class ScoreForm(SafeForm):
        """Built per rubric: its fields are the rubric's criteria, added below."""

    for criterio in rubrica.criterios:
        setattr(
            ScoreForm,
            f"score_{criterio.id}",
            RadioField(
                criterio.name,
                choices=_level_choices(rubrica, criterio),
                validators=[Optional()],
                description=criterio.description,
            ),
        )
        if with_comments:
            setattr(
                ScoreForm,
                f"comment_{criterio.id}",
                TextAreaField(
                    _l("Comment on %(criterion)s", criterion=criterio.name),
                    validators=[Optional(), Length(max=5000)],
                ),
            )
    if with_comments:
        ScoreForm.overall = TextAreaField(_l("Overall comment"), validators=[Optional(), Length(max=10000)])
        ScoreForm.save = SubmitField(_l("Save draft"))
        ScoreForm.send = SubmitField(_l("Submit evaluation"))
    else:
        ScoreForm.send = SubmitField(_l("Score the example"))
    return ScoreForm(**kwargs)


def parsed_scores(form: Any, rubrica: Rubrica) -> dict[int, int | None]:
    result: dict[int, int | None] = {}
    for criterio in rubrica.criterios:
        raw = form[f"score_{criterio.id}"].data
        result[criterio.id] = int(raw) if raw not in (None, "", "None") else None
    return result


class ConflictForm(SafeForm):
    tipo = SelectField(
        _l("The conflict is with"),
        choices=[
            ("", _l("Choose one")),
            (TipoConflicto.ORGANIZACION.value, _l("An organisation (RUT)")),
            (TipoConflicto.PERSONA.value, _l("A person (RUT)")),
            (TipoConflicto.REGION.value, _l("A region")),
        ],
        validators=[InputRequired()],
    )
    rut = StringField(
        _l("RUT"),
        validators=[Optional(), Length(max=20)],
        description=_l("For an organisation or a person, for example 12.345.678-5."),
    )
    region = SelectField(_l("Region"), validators=[Optional()])
    note = TextAreaField(_l("Why (optional)"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Declare conflict"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region.choices = [("", "—"), *region_choices()]


class ReasonForm(SafeForm):
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=2000)])
    submit = SubmitField(_l("Confirm"))


class ItemConflictForm(SafeForm):
    note = TextAreaField(_l("Why (optional)"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("I have a conflict of interest with this submission"))


class ManualAssignForm(SafeForm):
    reviewer = SelectField(_l("Reviewer"), validators=[InputRequired()])
    # A folio typed rather than a list of every admissible submission (thousands in a large call).
    postulacion = StringField(
        _l("Submission folio"),
        validators=[InputRequired(), Length(max=30)],
        description=_l("As IDEA-2026-00012."),
    )
    submit = SubmitField(_l("Assign"))


class CriterioForm(SafeSubform):
    name = StringField(_l("Criterion"), validators=[Optional(), Length(max=120)])
    weight = IntegerField(_l("Weight (%)"), validators=[Optional(), NumberRange(min=1, max=100)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    levels = TextAreaField(
        _l("Level descriptions"),
        validators=[Optional(), Length(max=5000)],
        description=_l("One line per level, as “7: excellent”."),
    )


class RubricaForm(SafeForm):
    scale_min = IntegerField(_l("Lowest score"), default=1, validators=[InputRequired(), NumberRange(0, 99)])
    scale_max = IntegerField(
        _l("Highest score"), default=7, validators=[InputRequired(), NumberRange(1, 100)]
    )
    pass_mark = DecimalField(_l("Pass mark"), default=4, places=1, validators=[InputRequired()])
    min_final_score = DecimalField(
        _l("Minimum final score for selection"), default=4, places=1, validators=[InputRequired()]
    )
    reviewers_per_submission = IntegerField(
        _l("Reviewers per submission"), default=2, validators=[InputRequired(), NumberRange(1, 10)]
    )
    exclude_own_region = BooleanField(_l("Reviewers never score submissions from their own region"))
    outlier_threshold = DecimalField(
        _l("Disagreement threshold (points)"),
        default=2,
        places=1,
        validators=[InputRequired(), NumberRange(min=0)],
    )
    guide = TextAreaField(_l("Scoring guide for reviewers"), validators=[Optional(), Length(max=20000)])
    submit = SubmitField(_l("Save rubric"))


def rubrica_form(count: int, **kwargs: Any) -> RubricaForm:
    from wtforms import FieldList, FormField

    class Form_(RubricaForm):
        criterios = FieldList(FormField(CriterioForm), min_entries=count)

    return Form_(**kwargs)


def parse_levels(text: str) -> dict[str, str]:
    """'7: excelente' lines into {"7": "excelente"}; lines without a number are ignored."""
    levels: dict[str, str] = {}
    for line in (text or "").splitlines():
        number, sep, description = line.partition(":")
        if sep and number.strip().isdigit() and description.strip():
            levels[str(int(number))] = description.strip()
    return levels


class CalibrationForm(SafeForm):
    title = StringField(_l("Title of the example"), validators=[InputRequired(), Length(max=200)])
    text = TextAreaField(_l("The example submission"), validators=[InputRequired(), Length(max=20000)])


def calibration_form(rubrica: Rubrica, **kwargs: Any) -> CalibrationForm:
    class Form_(CalibrationForm):
        submit = SubmitField(_l("Save example"))

    for criterio in rubrica.criterios:
        setattr(
            Form_,
            f"ref_{criterio.id}",
            SelectField(
                _l("Reference score: %(criterion)s", criterion=criterio.name),
                choices=[("", _l("Choose a score")), *((str(v), str(v)) for v in rubrica.levels)],
                validators=[InputRequired()],
            ),
        )
    return Form_(**kwargs)
