"""The technical lead's pages: calls, their submissions with filters and counts, CSV/XLSX exports."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Flask, abort, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_login import current_user
from wtforms import SearchField, SelectField
from wtforms.validators import Length, Optional

from convocatorias import export_jobs, exports, lead_queries, reminders, uploads
from convocatorias.labels import (
    ESTADO_LABELS,
    FIELD_LABELS,
    MADUREZ_LABELS,
    TIPO_ORGANIZACION_LABELS,
    label_choices,
)
from convocatorias.lead_queries import STATUS_SENT, Filtros
from convocatorias.models import (
    Adjunto,
    Convocatoria,
    EstadoPostulacion,
    Exportacion,
    Postulacion,
    PostulacionVersion,
)
from idea import add_nav_provider, add_start_provider, audit
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


@bp.context_processor
def _helpers() -> dict[str, Any]:
    from convocatorias.applicant_views import _file_size  # one way of writing a file size

    return {"file_size": _file_size}


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


def _load_submission(postulacion_id: int) -> Postulacion:
    # Out of scope, a draft or missing: the same 404, so nobody learns that a submission exists.
    p = lead_queries.submission_for_staff(postulacion_id)
    if p is None or not lead_queries.can_view_submission(current_user, p):
        abort(404)
    return p


def _version_changes(versiones: list[PostulacionVersion]) -> list[tuple[PostulacionVersion, list[str]]]:
    """Each sent version with the labels of the fields that changed since the one before (newest first)."""
    rows, previous = [], None
    for version in versiones:
        changed = [] if previous is None else [
            str(FIELD_LABELS.get(name, name)) for name in version.data
            if version.data.get(name) != previous.get(name)]
        rows.append((version, changed))
        previous = version.data
    return rows[::-1]


@bp.route("/postulaciones/<int:postulacion_id>")
@access(LEAD)
def submission(postulacion_id: int) -> Any:
    p = _load_submission(postulacion_id)
    return render_template(
        "convocatorias/lead/submission.html", p=p, versions=_version_changes(p.versiones),
        events=lead_queries.submission_activity(p),
        back_url=url_for(".submissions", convocatoria_id=p.convocatoria_id),
    )


@bp.route("/adjuntos/<int:adjunto_id>")
@access(LEAD)
def download(adjunto_id: int) -> Any:
    adjunto = db.session.get(Adjunto, adjunto_id)
    if adjunto is None or not lead_queries.can_view_submission(current_user, adjunto.postulacion):
        abort(404)
    path = uploads.path_for(adjunto.stored_name)
    if not path.is_file():
        abort(404)
    # Personal data leaves the platform, as with the exports: who downloaded which file is kept.
    audit.record(current_user, "adjunto.downloaded", adjunto,
                 after={"postulacion_id": adjunto.postulacion_id})
    response = send_file(path, as_attachment=True, download_name=adjunto.original_name,
                         mimetype=adjunto.content_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _export(convocatoria_id: int, extension: str) -> Any:
    convocatoria = _load_call(convocatoria_id)
    _form, filtros = _filters_for(convocatoria)
    rows = lead_queries.count_submissions(current_user, convocatoria.id, filtros)
    if rows > export_jobs.async_threshold():
        # Too many rows to hold a web worker: a job writes the file while a page shows its progress.
        exportacion = export_jobs.request_export(current_user, convocatoria, extension, filtros, rows)
        return redirect(url_for(".export_status", exportacion_id=exportacion.id))
    records = lead_queries.export_records(current_user, convocatoria.id, filtros)
    data = exports.export_bytes(extension, records, convocatoria.title,
                                lead_queries.desafio_titles(convocatoria.id))
    # Personal data leaves the platform: who exported what is kept in the audit log.
    audit.record(current_user, "postulaciones.export", convocatoria,
                 after={"format": extension, "filters": filtros.as_args(), "rows": len(records)})
    return _attachment(send_file(io.BytesIO(data), mimetype=exports.MIMETYPES[extension], as_attachment=True,
                                 download_name=exports.filename(convocatoria, extension)))


def _attachment(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response


def _load_exportacion(exportacion_id: int) -> Exportacion:
    exportacion = db.session.get(Exportacion, exportacion_id)
    if exportacion is None or not export_jobs.can_view(current_user, exportacion):
        abort(404)
    return exportacion


@bp.route("/exportaciones/<int:exportacion_id>")
@access(LEAD)
def export_status(exportacion_id: int) -> Any:
    exportacion = _load_exportacion(exportacion_id)
    return render_template("convocatorias/lead/export_status.html", exportacion=exportacion,
                           ready=export_jobs.can_download(current_user, exportacion))


@bp.route("/exportaciones/<int:exportacion_id>/descargar")
@access(LEAD)
def export_download(exportacion_id: int) -> Any:
    exportacion = _load_exportacion(exportacion_id)
    path = export_jobs.path_for(exportacion)
    if not export_jobs.can_download(current_user, exportacion) or path is None or not path.is_file():
        abort(404)
    extension = exportacion.format
    return _attachment(send_file(path, mimetype=exports.MIMETYPES[extension], as_attachment=True,
                                 download_name=exports.filename(exportacion.convocatoria, extension)))


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


def _start(user: Any) -> list[dict[str, Any]]:
    if not (user.is_authenticated and user.has_any_role(*LEAD.roles)):
        return []
    return [{"url": url_for("convocatorias_lead.index"), "label": _("Submissions by call"),
             "role": Role.ENCARGADO_TECNICO,
             "description": _("Read the submissions of your calls and regions, filter and count them, "
                              "and export them.")}]


def init_app(app: Flask) -> None:
    """Plug in the lead's pages, their menu link and start card, and the `send-reminders` and `clean-exports`
    commands."""
    app.register_blueprint(bp)
    add_nav_provider(app, _nav)
    add_start_provider(app, _start)
    reminders.register_cli(app)
    export_jobs.register_cli(app)
