"""Admissibility pages: the call's checklist (admin), decisions and answers (technical lead), and the
applicant's request for reconsideration.

Views load, check scope (out of scope answers 404), validate the form, call an operation of
`convocatorias.admisibilidad` and redirect; a refused form is shown again with 422 and nothing is kept.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from convocatorias import admisibilidad as adm
from convocatorias import lead_queries, permissions
from convocatorias.admisibilidad_forms import (
    NO,
    YES,
    DecisionForm,
    ReconsideracionForm,
    RequisitosForm,
    RespuestaForm,
)
from convocatorias.admisibilidad_models import Reconsideracion
from convocatorias.lead_views import SubmissionFilterForm
from convocatorias.models import Convocatoria, Fase, Postulacion
from convocatorias.operations import can_view_admin
from idea import chile
from idea.extensions import db
from idea.forms import EmptyForm
from idea.models import Role, User
from idea.params import choice_param, page_param, parse_int
from idea.permissions import ADMIN, LOGGED_IN, access, roles

bp = Blueprint("convocatorias_admisibilidad", __name__)

LEAD = roles(Role.ENCARGADO_TECNICO)
INVALID = 422
TEMPLATES = "convocatorias/admisibilidad/"


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


# --- the call's checklist (admin, in the call editor) ---------------------------------------------------

@bp.route("/admin/convocatorias/<int:convocatoria_id>/requisitos", methods=["GET", "POST"])
@access(ADMIN)
def requisitos(convocatoria_id: int) -> Any:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None or not can_view_admin(current_user, convocatoria):
        abort(404)
    rows = adm.requisitos_of(convocatoria.id)
    form = RequisitosForm()
    if not form.is_submitted():
        form.requisitos.data = "\n".join(r.text for r in rows)
    editable = not convocatoria.is_published
    if editable and form.validate_on_submit():
        try:
            changed = adm.replace_requisitos(_actor(), convocatoria, form.requisitos.data.splitlines())
        except adm.AdmisibilidadError as error:
            form.requisitos.errors = [*form.requisitos.errors, error.message]
        else:
            flash(_("Admissibility checklist saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for(".requisitos", convocatoria_id=convocatoria.id))
    elif form.is_submitted() and not editable:
        flash(_("The admissibility checklist can only be changed while the call is a draft."), "error")
    status = INVALID if form.is_submitted() else 200
    return render_template(TEMPLATES + "requisitos.html", convocatoria=convocatoria, rows=rows, form=form,
                           editable=editable), status


# --- the lead's list and bulk action -----------------------------------------------------------------

def _load_call(convocatoria_id: int) -> Convocatoria:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None or not lead_queries.can_view_call(current_user, convocatoria):
        abort(404)
    return convocatoria


def _filtered(convocatoria: Convocatoria) -> tuple[SubmissionFilterForm, lead_queries.Filtros, bool,
                                                    sa.Select[Any]]:
    regions = lead_queries.regions_in_scope(current_user, convocatoria.id)
    form = SubmissionFilterForm(convocatoria, regions, formdata=request.args)
    filtros = form.filtros()
    pendientes = choice_param("pendientes", ("1",)) is not None
    stmt = lead_queries.filtered_select(current_user, convocatoria.id, filtros)
    if pendientes:
        stmt = stmt.where(adm.pending_clause())
    return form, filtros, pendientes, stmt


def _render_list(convocatoria: Convocatoria, status: int = 200, error: str | None = None) -> Any:
    form, filtros, pendientes, stmt = _filtered(convocatoria)
    pagination = db.paginate(stmt, page=page_param(), per_page=lead_queries.PAGE_SIZE, error_out=False)
    ids = [p.id for p in pagination.items]
    args = {**filtros.as_args(), **({"pendientes": "1"} if pendientes else {})}
    undecided, unanswered = adm.pending_counts(convocatoria.id)
    return render_template(
        TEMPLATES + "lista.html", convocatoria=convocatoria, form=form, pagination=pagination, args=args,
        pendientes=pendientes, decisions=adm.decisions_by_postulacion(ids),
        reconsideraciones=adm.reconsideraciones_by_postulacion(ids), error=error,
        undecided=undecided, unanswered=unanswered,
    ), status


@bp.route("/gestion/convocatorias/<int:convocatoria_id>/admisibilidad")
@access(LEAD)
def lista(convocatoria_id: int) -> Any:
    return _render_list(_load_call(convocatoria_id))


@bp.route("/gestion/convocatorias/<int:convocatoria_id>/admisibilidad/admisibles", methods=["POST"])
@access(LEAD)
def masivo(convocatoria_id: int) -> Any:
    """Mark admissible the selected submissions, or every one matching the filters (query string)."""
    convocatoria = _load_call(convocatoria_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    _form, filtros, pendientes, stmt = _filtered(convocatoria)
    if request.form.get("todas") != "1":
        ids = [i for i in (parse_int(v, minimum=1) for v in request.form.getlist("ids")) if i is not None]
        if not ids:
            return _render_list(convocatoria, INVALID, _("Select at least one submission."))
        stmt = stmt.where(Postulacion.id.in_(ids))
    selected = db.session.scalars(stmt).unique().all()
    try:
        done = adm.decide_all_admissible(_actor(), selected)
    except adm.AdmisibilidadError as error:
        return _render_list(convocatoria, INVALID, error.message)
    if done:
        flash(_("%(num)d submission(s) marked admissible; their applicants will receive an e-mail.",
                num=done), "success")
    else:
        flash(_("None of the selected submissions was waiting for a decision."), "info")
    back = {**filtros.as_args(), **({"pendientes": "1"} if pendientes else {})}
    return redirect(url_for(".lista", convocatoria_id=convocatoria.id, **back))


# --- one submission: decision and answer ----------------------------------------------------------------

def _load_postulacion(postulacion_id: int) -> Postulacion:
    p = db.session.get(Postulacion, postulacion_id)
    if p is None or not adm.can_decide(_actor(), p):
        abort(404)
    return p


def _render_postulacion(p: Postulacion, status: int = 200, decision_form: DecisionForm | None = None,
                        respuesta_form: RespuestaForm | None = None) -> Any:
    requisitos = adm.requisitos_of(p.convocatoria_id)
    decision = adm.decision_of(p)
    rec = adm.reconsideracion_of(p)
    return render_template(
        TEMPLATES + "postulacion.html", p=p, decision=decision, rec=rec,
        deadline=adm.reconsideration_deadline(decision) if decision and not decision.admissible else None,
        decision_form=decision_form or DecisionForm(requisitos, formdata=None),
        respuesta_form=respuesta_form or RespuestaForm(formdata=None),
        can_decide_now=(decision is None and p.status == adm.ENVIADA
                        and p.convocatoria.fase == Fase.ADMISIBILIDAD),
    ), status


@bp.route("/gestion/admisibilidad/<int:postulacion_id>")
@access(LEAD)
def postulacion(postulacion_id: int) -> Any:
    return _render_postulacion(_load_postulacion(postulacion_id))


def _field_error(form: Any, error: adm.AdmisibilidadError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


@bp.route("/gestion/admisibilidad/<int:postulacion_id>/decidir", methods=["POST"])
@access(LEAD)
def decidir(postulacion_id: int) -> Any:
    p = _load_postulacion(postulacion_id)
    form = DecisionForm(adm.requisitos_of(p.convocatoria_id))
    if form.validate_on_submit():
        try:
            adm.decide(_actor(), p, admissible=form.admissible.data == YES,
                       requisito_ids=form.requisitos.data if form.admissible.data == NO else (),
                       reason=form.reason.data)
        except adm.AdmisibilidadError as error:
            _field_error(form, error)
        else:
            flash(_("Decision recorded for %(folio)s; the applicant will receive an e-mail.", folio=p.folio),
                  "success")
            return redirect(url_for(".postulacion", postulacion_id=p.id))
    return _render_postulacion(p, INVALID, decision_form=form)


@bp.route("/gestion/admisibilidad/<int:postulacion_id>/reconsideracion", methods=["POST"])
@access(LEAD)
def responder(postulacion_id: int) -> Any:
    p = _load_postulacion(postulacion_id)
    rec: Reconsideracion | None = adm.reconsideracion_of(p)
    if rec is None:
        abort(404)
    form = RespuestaForm()
    if form.validate_on_submit():
        try:
            adm.answer_reconsideration(_actor(), rec, accept=form.accept.data == YES, answer=form.answer.data)
        except adm.AdmisibilidadError as error:
            _field_error(form, error)
        else:
            flash(_("Answer recorded; the applicant will receive an e-mail."), "success")
            return redirect(url_for(".postulacion", postulacion_id=p.id))
    return _render_postulacion(p, INVALID, respuesta_form=form)


# --- the applicant's request ------------------------------------------------------------------------

@bp.route("/mis-postulaciones/<int:postulacion_id>/reconsideracion", methods=["GET", "POST"])
@access(LOGGED_IN)
def solicitar(postulacion_id: int) -> Any:
    p = db.session.get(Postulacion, postulacion_id)
    actor = _actor()
    if p is None or not permissions.can_view_postulacion(actor, p):
        abort(404)
    if not permissions.is_owner(actor, p):
        abort(403)
    form = ReconsideracionForm()
    if form.validate_on_submit():
        try:
            adm.request_reconsideration(actor, p, form.text.data)
        except adm.AdmisibilidadError as error:
            form.text.errors = [*form.text.errors, error.message]
        else:
            flash(_("Your request for reconsideration was sent. The technical team will answer by e-mail."),
                  "success")
            return redirect(url_for("convocatorias_applicant.detail", postulacion_id=p.id))
    status = INVALID if form.is_submitted() else 200
    return render_template(TEMPLATES + "solicitar.html", p=p, form=form,
                           estado=adm.estado_para_postulante(actor, p)), status


def _estado_admisibilidad(p: Postulacion) -> adm.EstadoAdmisibilidad:
    return adm.estado_para_postulante(current_user, p, chile.utcnow())


def init_app(app: Flask) -> None:
    """Register the pages, the phase guard, and `estado_admisibilidad(p)` for the applicant's page."""
    app.register_blueprint(bp)
    app.add_template_global(_estado_admisibilidad, "estado_admisibilidad")
    adm.connect()

