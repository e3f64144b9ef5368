"""The technical lead's pages: calls, their submissions with filters and counts, CSV/XLSX exports."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Flask, abort, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_login import current_user
from wtforms import SearchField, SelectField
from wtforms.validators import Length, Optional

from convocatorias import exports, lead_queries, reminders
from convocatorias.labels import ESTADO_LABELS, MADUREZ_LABELS, TIPO_ORGANIZACION_LABELS, label_choices
from convocatorias.lead_queries import STATUS_SENT, Filtros
from convocatorias.models import Convocatoria, EstadoPostulacion
from idea import add_nav_provider, audit
from idea.chile import region_choices, region_name
from idea.extensions import db
from idea.forms import FilterForm
from idea.models import Role
from idea.params import page_param
from idea.permissions import access, roles

bp = Blueprint("convocatorias_lead", __name__, url_prefix="/gestion")

LEAD = roles(Role.ENCARGADO_TECNICO)


class SubmissionFilterForm(FilterForm):
    """The GET filters of the submissions list; an invalid value is reported and ignored."""

    q = SearchField(_l("Search folio, title or organisation"), validators=[Optional(), Length(max=100)])
    desafio = SelectField(_l("Challenge"), validators=[Optional()])
    region = SelectField(_l("Region"), validators=[Optional()])
    estado = SelectField(_l("Status"), validators=[Optional()])
    madurez = SelectField(_l("Maturity"), validators=[Optional()])
    tipo = SelectField(_l("Organisation type"), validators=[Optional()])

    def __init__(self, convocatoria: Convocatoria, region_codes: list[str] | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # "All" agrees in gender with the filtered noun in Spanish: desafío, tipo / región, madurez.
        every_masculine = pgettext("filter over a masculine noun", "All")
        every_feminine = pgettext("filter over a feminine noun", "All")
        self.desafio.choices = [("", every_masculine)] + [(str(d.id), d.title) for d in convocatoria.desafios]
        codes = region_codes if region_codes is not None else [code for code, _name in region_choices()]
        self.region.choices = [("", every_feminine)] + [(code, region_name(code)) for code in codes]
        self.estado.choices = [(STATUS_SENT, _("All sent"))]
        self.estado.choices += [c for c in label_choices(ESTADO_LABELS) if c[0] != EstadoPostulacion.BORRADOR]
        self.madurez.choices = [("", every_feminine), *label_choices(MADUREZ_LABELS)]
        self.tipo.choices = [("", every_masculine), *label_choices(TIPO_ORGANIZACION_LABELS)]

    def filtros(self) -> Filtros:
        """The valid filters (each field validated on its own, so one bad value does not drop the others)."""
        def ok(field: Any) -> Any:
            return field.data if field.data and field.validate(self) else None

        desafio = ok(self.desafio)
        return Filtros(
            desafio_id=int(desafio) if desafio else None,
            region=ok(self.region),
            status=ok(self.estado) or STATUS_SENT,
            maturity=ok(self.madurez),
            tipo=ok(self.tipo),
            q=(ok(self.q) or "").strip(),
        )


def _load_call(convocatoria_id: int) -> Convocatoria:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None or not lead_queries.can_view_call(current_user, convocatoria):
        abort(404)
    return convocatoria


def _filters_for(convocatoria: Convocatoria) -> tuple[SubmissionFilterForm, Filtros]:
    regions = lead_queries.regions_in_scope(current_user, convocatoria.id)
    form = SubmissionFilterForm(convocatoria, regions, formdata=request.args)
    return form, form.filtros()


@bp.route("/")
@access(LEAD)
def index() -> Any:
    calls = lead_queries.visible_calls(current_user)
    counts = lead_queries.counts_by_call(current_user)
    return render_template("convocatorias/lead/index.html", calls=calls, counts=counts)


@bp.route("/convocatorias/<int:convocatoria_id>/postulaciones")
@access(LEAD)
def submissions(convocatoria_id: int) -> Any:
    convocatoria = _load_call(convocatoria_id)
    form, filtros = _filters_for(convocatoria)
    pagination = lead_queries.paginate_submissions(current_user, convocatoria.id, filtros, page_param())
    return render_template(
        "convocatorias/lead/submissions.html", convocatoria=convocatoria, form=form, filtros=filtros,
        pagination=pagination, args=filtros.as_args(),
        by_region=lead_queries.counts_by_region(current_user, convocatoria.id, filtros),
        by_desafio=lead_queries.counts_by_desafio(current_user, convocatoria.id, filtros),
    )


def _export(convocatoria_id: int, extension: str) -> Any:
    convocatoria = _load_call(convocatoria_id)
    _form, filtros = _filters_for(convocatoria)
    postulaciones = lead_queries.all_submissions(current_user, convocatoria.id, filtros)
    if extension == "csv":
        data, mimetype = exports.export_csv(postulaciones), exports.CSV_MIMETYPE
    else:
        data, mimetype = exports.export_xlsx(postulaciones), exports.XLSX_MIMETYPE
    # Personal data leaves the platform: who exported what is kept in the audit log.
    audit.record(current_user, "postulaciones.export", convocatoria,
                 after={"format": extension, "filters": filtros.as_args(), "rows": len(postulaciones)})
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=exports.filename(convocatoria, extension))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/convocatorias/<int:convocatoria_id>/postulaciones.csv")
@access(LEAD)
def export_csv(convocatoria_id: int) -> Any:
    return _export(convocatoria_id, "csv")


@bp.route("/convocatorias/<int:convocatoria_id>/postulaciones.xlsx")
@access(LEAD)
def export_xlsx(convocatoria_id: int) -> Any:
    return _export(convocatoria_id, "xlsx")


def _nav(user: Any) -> list[dict[str, str]]:
    if user.is_authenticated and user.has_any_role(*LEAD.roles):
        return [{"url": url_for("convocatorias_lead.index"), "label": _("Submissions")}]
    return []


def init_app(app: Flask) -> None:
    """Plug in the lead's pages, their menu link and the `flask send-reminders` command."""
    app.register_blueprint(bp)
    add_nav_provider(app, _nav)
    reminders.register_cli(app)
