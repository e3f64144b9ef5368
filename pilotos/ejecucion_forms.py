"""Forms of the execution phase. The report and the plan have one row per plan line, so their inputs are
read from the request by pilotos.ejecucion_views (CSRF through EmptyForm); the rest are plain forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from idea.forms import SafeForm


class ConfigForm(SafeForm):
    report_every_months = IntegerField(
        _l("Reports every (months)"),
        validators=[InputRequired(), NumberRange(min=1, max=12)],
        render_kw={"inputmode": "numeric"},
    )
    duration_months = IntegerField(
        _l("Duration of the pilots (months)"),
        validators=[InputRequired(), NumberRange(min=1, max=36)],
        description=_l("Used when the call has no execution period."),
        render_kw={"inputmode": "numeric"},
    )
    grace_days = IntegerField(
        _l("Days to send a report after its period ends"),
        validators=[InputRequired(), NumberRange(min=0, max=90)],
        render_kw={"inputmode": "numeric"},
    )
    ask_sex_breakdown = BooleanField(_l("Ask for the beneficiaries by sex"))
    ask_region_breakdown = BooleanField(_l("Ask for the beneficiaries by region"))
    submit = SubmitField(_l("Save settings"))


class ReviewForm(SafeForm):
    comment = TextAreaField(
        _l("Comment for the team"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Required when you send the report back: say what to change."),
    )
    send_back = SubmitField(_l("Send back for changes"))
    approve = SubmitField(_l("Approve the report"))


class EvidenciaForm(SafeForm):
    archivo = FileField(
        _l("Evidence file"),
        validators=[FileRequired(message=_l("Choose a file to attach."))],
        description=_l("PDF, PNG or JPEG, up to 10 MB each, at most 10 per report."),
    )
    upload = SubmitField(_l("Attach file"))
