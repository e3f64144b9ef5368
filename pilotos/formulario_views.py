"""Pages of the full form: the team fills it in (the lead reads it), the lead's list per call and review."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from convocatorias.models import Convocatoria
from idea.extensions import db
from idea.models import Role
from idea.permissions import LOGGED_IN, access, roles
from pilotos import formulario as fops
from pilotos.formulario_forms import FormularioForm, ReviewForm, initial
from pilotos.formulario_models import EstadoFormulario, FormularioCompleto
from pilotos.models import Equipo
from pilotos.operations import FormacionError
from pilotos.permissions import can_lead_call, can_manage_team, can_see_team, is_member, regions_of

bp = Blueprint("pilotos_formulario", __name__)

HISTORY_LABELS = {
    "enviado": _l("Sent by the team"),
    "observado": _l("Sent back for changes"),
    "aceptado": _l("Accepted by the lead"),
}
STATUS_LABELS = {
    "borrador": _l("Draft"),
    "enviado": _l("Sent, waiting for review"),
    "con_observaciones": _l("Sent back for changes"),
    "aceptado": _l("Accepted by the lead"),
}


def _team(equipo_id: int) -> Equipo:
    equipo = db.session.get(Equipo, equipo_id)
    if equipo is None or not can_see_team(current_user, equipo):
        abort(404)
    return equipo


def _context(equipo: Equipo) -> dict[str, Any]:
    start, end = fops.execution_period(equipo.convocatoria)
    return {
        "equipo": equipo,
        "awarded": fops.awarded_amount(equipo),
        "period_start": start,
        "period_end": end,
        "categorias": fops.CATEGORIAS,
        "history_labels": HISTORY_LABELS,
        "status_labels": STATUS_LABELS,
    }


@bp.route("/equipo/<int:equipo_id>/formulario", methods=["GET", "POST"])
@access(LOGGED_IN)
def team_form(equipo_id: int) -> Any:
    equipo = _team(equipo_id)
    formulario = fops.formulario_of(equipo)
    member = is_member(current_user, equipo)
    pending = fops.pending_modules(equipo)
    editable = member and not pending and (formulario is None or formulario.status in fops.EDITABLE)
    if request.method == "POST":
        if not editable:
            abort(403)
        form = FormularioForm()
        if not form.validate_on_submit():
            form.pad()
            return render_template(
                "pilotos/formulario/team.html",
                form=form,
                formulario=formulario,
                editable=True,
                pending=pending,
                **_context(equipo),
            ), 422
        if form.add_rows.data:
            form.pad()
            return render_template(
                "pilotos/formulario/team.html",
                form=form,
                formulario=formulario,
                editable=True,
                pending=pending,
                **_context(equipo),
            )
        submit = bool(form.send.data)
        try:
            fops.save(current_user, equipo, form.to_data(), submit=submit)
        except FormacionError as error:
            db.session.rollback()
            form.pad()
            return render_template(
                "pilotos/formulario/team.html",
                form=form,
                formulario=fops.formulario_of(equipo),
                editable=True,
                pending=pending,
                page_errors=[{"message": m} for m in error.messages],
                **_context(equipo),
            ), 422
        db.session.commit()
        flash(_("Form sent to the lead.") if submit else _("Draft saved."), "success")
        return redirect(url_for(".team_form", equipo_id=equipo.id))
    data = (
        fops.from_formulario(formulario)
        if formulario
        else fops.FormularioData(indicadores=fops.baseline_rows(equipo))
    )
    form = FormularioForm(data=initial(data))
    form.pad()
    return render_template(
        "pilotos/formulario/team.html",
        form=form,
        formulario=formulario,
        editable=editable,
        pending=pending,
        data=data,
        **_context(equipo),
    )


LEAD = roles(Role.ENCARGADO_TECNICO)


@bp.route("/gestion/formacion/<int:convocatoria_id>/formularios")
@access(LEAD)
def lead_list(convocatoria_id: int) -> Any:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None or not can_lead_call(current_user, convocatoria):
        abort(404)
    stmt = (
        sa.select(Equipo, FormularioCompleto)
        .outerjoin(FormularioCompleto, FormularioCompleto.equipo_id == Equipo.id)
        .where(Equipo.convocatoria_id == convocatoria.id)
        .order_by(Equipo.name, Equipo.id)
    )
    regions = regions_of(current_user, convocatoria.id)
    if regions is not None:
        stmt = stmt.where(Equipo.region.in_(regions))
    rows = db.session.execute(stmt).all()
    return render_template(
        "pilotos/formulario/lead_list.html", convocatoria=convocatoria, rows=rows, status_labels=STATUS_LABELS
    )


@bp.route("/gestion/formacion/formularios/<int:formulario_id>", methods=["GET", "POST"])
@access(LEAD)
def review(formulario_id: int) -> Any:
    formulario = db.session.get(FormularioCompleto, formulario_id)
    if formulario is None or not can_manage_team(current_user, formulario.equipo):
        abort(404)
    equipo = formulario.equipo
    form = ReviewForm()
    problems: list[str] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            if form.accept.data:
                fops.accept(current_user, formulario, form.comment.data or "")
                message = _("The form was accepted.")
            else:
                fops.request_changes(current_user, formulario, form.comment.data or "")
                message = _("The form was sent back to the team.")
        except FormacionError as error:
            db.session.rollback()
            problems = error.messages
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for(".review", formulario_id=formulario.id))
    return render_template(
        "pilotos/formulario/review.html",
        formulario=formulario,
        data=fops.from_formulario(formulario),
        form=form,
        can_review=formulario.status == EstadoFormulario.ENVIADO,
        page_errors=[{"message": m} for m in problems],
        **_context(equipo),
    ), (422 if problems else 200)


def init_formulario(app: Flask) -> None:
    app.register_blueprint(bp)
