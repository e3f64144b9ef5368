"""The lead's training pages: teams of a call, workshops (create, edit, attendance), modules (write,
progress per team)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from convocatorias import lead_queries
from convocatorias.models import Convocatoria, Fase
from idea import chile
from idea.extensions import db
from idea.forms import EmptyForm
from idea.models import Role
from idea.params import parse_int
from idea.permissions import access, roles
from pilotos import operations as ops
from pilotos.forms import ModuloForm, TallerForm
from pilotos.markdown import render as render_markdown
from pilotos.models import Equipo, MiembroEquipo, Modulo, Taller
from pilotos.permissions import can_edit_modulos, can_lead_call, can_manage_taller, regions_of

bp = Blueprint("pilotos_lead", __name__, url_prefix="/gestion/formacion")

LEAD = roles(Role.ENCARGADO_TECNICO)
PHASES = (Fase.COMITE, Fase.FORMACION, Fase.EJECUCION, Fase.CIERRE)


def _call(convocatoria_id: int) -> Convocatoria:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None or not can_lead_call(current_user, convocatoria):
        abort(404)
    return convocatoria


def _errors(error: ops.FormacionError) -> None:
    for message in error.messages:
        flash(message, "error")


def teams_in_scope(convocatoria: Convocatoria) -> list[Equipo]:
    stmt = (
        sa.select(Equipo)
        .where(Equipo.convocatoria_id == convocatoria.id)
        .options(joinedload(Equipo.postulacion))
        .order_by(Equipo.name, Equipo.id)
    )
    regions = regions_of(current_user, convocatoria.id)
    if regions is not None:
        stmt = stmt.where(Equipo.region.in_(regions))
    return list(db.session.scalars(stmt))


@bp.route("/")
@access(LEAD)
def index() -> Any:
    calls = [c for c in lead_queries.visible_calls(current_user) if c.fase in PHASES]
    return render_template("pilotos/lead/index.html", calls=calls)


@bp.route("/<int:convocatoria_id>")
@access(LEAD)
def teams(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    equipos = teams_in_scope(convocatoria)
    members = (
        dict(
            db.session.execute(
                sa.select(MiembroEquipo.equipo_id, sa.func.count(MiembroEquipo.id))
                .where(MiembroEquipo.equipo_id.in_([e.id for e in equipos]))
                .group_by(MiembroEquipo.equipo_id)
            ).all()
        )
        if equipos
        else {}
    )
    return render_template(
        "pilotos/lead/teams.html",
        convocatoria=convocatoria,
        equipos=equipos,
        members=members,
        whole=regions_of(current_user, convocatoria.id) is None,
    )


@bp.route("/<int:convocatoria_id>/equipos", methods=["POST"])
@access(LEAD)
def create_teams(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    if regions_of(current_user, convocatoria.id) is not None or not EmptyForm().validate_on_submit():
        abort(403)
    created = ops.create_teams(current_user, convocatoria)
    flash(_("%(num)d teams created.", num=created), "success")
    return redirect(url_for(".teams", convocatoria_id=convocatoria.id))


# --- workshops ---------------------------------------------------------------------------------------


def _region_choices(convocatoria: Convocatoria) -> list[tuple[str, str]]:
    regions = regions_of(current_user, convocatoria.id)
    choices = [(code, name) for code, name in chile.region_choices() if regions is None or code in regions]
    return ([("", _("Every region"))] if regions is None else []) + choices


def _taller(convocatoria: Convocatoria, taller_id: int) -> Taller:
    taller = db.session.get(Taller, taller_id)
    if (
        taller is None
        or taller.convocatoria_id != convocatoria.id
        or not can_manage_taller(current_user, taller)
    ):
        abort(404)
    return taller


@bp.route("/<int:convocatoria_id>/talleres")
@access(LEAD)
def talleres(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    stmt = (
        sa.select(Taller)
        .where(Taller.convocatoria_id == convocatoria.id)
        .order_by(Taller.starts_at, Taller.id)
    )
    regions = regions_of(current_user, convocatoria.id)
    if regions is not None:
        stmt = stmt.where(sa.or_(Taller.region.is_(None), Taller.region.in_(regions)))
    rows = list(db.session.scalars(stmt))
    return render_template(
        "pilotos/lead/talleres.html",
        convocatoria=convocatoria,
        talleres=rows,
        manageable={t.id for t in rows if can_manage_taller(current_user, t)},
        now=chile.utcnow(),
    )


def _taller_form_page(convocatoria: Convocatoria, taller: Taller | None) -> Any:
    form = TallerForm(obj=taller, region_choices=_region_choices(convocatoria))
    if taller is not None and request.method == "GET":
        form.region.data = taller.region or ""
    if form.validate_on_submit():
        data = form.to_data()
        regions = regions_of(current_user, convocatoria.id)
        if regions is not None and data.region not in regions:
            abort(403)
        try:
            saved = ops.save_taller(current_user, convocatoria, data, taller)
        except ops.FormacionError as error:
            form.form_errors.extend(error.messages)
            return render_template(
                "pilotos/lead/taller_form.html", convocatoria=convocatoria, form=form, taller=taller
            ), 422
        flash(_("Workshop saved."), "success")
        for notice in (form.starts_at.notice, form.ends_at.notice):
            if notice:  # a time that does not exist in Chile, or happens twice (daylight saving)
                flash(notice, "info")
        return redirect(url_for(".talleres", convocatoria_id=convocatoria.id, _anchor=f"taller-{saved.id}"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "pilotos/lead/taller_form.html", convocatoria=convocatoria, form=form, taller=taller
    ), status


@bp.route("/<int:convocatoria_id>/talleres/nuevo", methods=["GET", "POST"])
@access(LEAD)
def new_taller(convocatoria_id: int) -> Any:
    return _taller_form_page(_call(convocatoria_id), None)


@bp.route("/<int:convocatoria_id>/talleres/<int:taller_id>", methods=["GET", "POST"])
@access(LEAD)
def edit_taller(convocatoria_id: int, taller_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    return _taller_form_page(convocatoria, _taller(convocatoria, taller_id))


@bp.route("/<int:convocatoria_id>/talleres/<int:taller_id>/eliminar", methods=["POST"])
@access(LEAD)
def delete_taller(convocatoria_id: int, taller_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    taller = _taller(convocatoria, taller_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ops.delete_taller(current_user, taller)
    flash(_("Workshop deleted."), "success")
    return redirect(url_for(".talleres", convocatoria_id=convocatoria.id))


@bp.route("/<int:convocatoria_id>/talleres/<int:taller_id>/asistencia", methods=["GET", "POST"])
@access(LEAD)
def attendance(convocatoria_id: int, taller_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    taller = _taller(convocatoria, taller_id)
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        ids = {parse_int(v, minimum=1) for v in request.form.getlist("present")}
        count = ops.record_attendance(current_user, taller, {i for i in ids if i is not None})
        flash(_("Attendance saved: %(num)d teams present.", num=count), "success")
        return redirect(url_for(".attendance", convocatoria_id=convocatoria.id, taller_id=taller.id))
    return render_template(
        "pilotos/lead/attendance.html",
        convocatoria=convocatoria,
        taller=taller,
        rows=ops.inscripciones(taller),
        form=form,
    )


# --- modules -----------------------------------------------------------------------------------------


@bp.route("/<int:convocatoria_id>/modulos")
@access(LEAD)
def modulos(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    modulos = ops.modulos_of(convocatoria.id)
    equipos = teams_in_scope(convocatoria)
    done = ops.progress(convocatoria.id)
    return render_template(
        "pilotos/lead/modulos.html",
        convocatoria=convocatoria,
        modulos=modulos,
        equipos=equipos,
        done=done,
        editable=can_edit_modulos(current_user, convocatoria),
    )


def _modulo(convocatoria: Convocatoria, modulo_id: int) -> Modulo:
    modulo = db.session.get(Modulo, modulo_id)
    if modulo is None or modulo.convocatoria_id != convocatoria.id:
        abort(404)
    return modulo


def _modulo_form_page(convocatoria: Convocatoria, modulo: Modulo | None) -> Any:
    if not can_edit_modulos(current_user, convocatoria):
        abort(403)
    form = ModuloForm(obj=modulo)
    if modulo is not None and request.method == "GET":
        form.items.data = "\n".join(item.text for item in modulo.items)
    if form.validate_on_submit():
        try:
            ops.save_modulo(current_user, convocatoria, form.to_data(), modulo)
        except ops.FormacionError as error:
            form.form_errors.extend(error.messages)
            return render_template(
                "pilotos/lead/modulo_form.html",
                convocatoria=convocatoria,
                form=form,
                modulo=modulo,
                preview=None,
            ), 422
        flash(_("Module saved."), "success")
        return redirect(url_for(".modulos", convocatoria_id=convocatoria.id))
    preview = render_markdown(modulo.body) if modulo is not None else None
    status = 422 if request.method == "POST" else 200
    return render_template(
        "pilotos/lead/modulo_form.html", convocatoria=convocatoria, form=form, modulo=modulo, preview=preview
    ), status


@bp.route("/<int:convocatoria_id>/modulos/nuevo", methods=["GET", "POST"])
@access(LEAD)
def new_modulo(convocatoria_id: int) -> Any:
    return _modulo_form_page(_call(convocatoria_id), None)


@bp.route("/<int:convocatoria_id>/modulos/<int:modulo_id>", methods=["GET", "POST"])
@access(LEAD)
def edit_modulo(convocatoria_id: int, modulo_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    return _modulo_form_page(convocatoria, _modulo(convocatoria, modulo_id))


@bp.route("/<int:convocatoria_id>/modulos/<int:modulo_id>/eliminar", methods=["POST"])
@access(LEAD)
def delete_modulo(convocatoria_id: int, modulo_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    modulo = _modulo(convocatoria, modulo_id)
    if not can_edit_modulos(current_user, convocatoria):
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ops.delete_modulo(current_user, modulo)
    flash(_("Module deleted."), "success")
    return redirect(url_for(".modulos", convocatoria_id=convocatoria.id))
