"""The team's pages: its home (workshops, modules, members, invitations), a module with its checklist,
the invitation link, and a workshop's calendar file."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from idea import chile
from idea.extensions import db
from idea.forms import EmptyForm
from idea.mail import external_url
from idea.params import parse_int
from idea.permissions import LOGGED_IN, access
from pilotos import operations as ops
from pilotos.forms import InviteForm
from pilotos.ics import workshop_ics
from pilotos.markdown import render as render_markdown
from pilotos.models import Equipo, InscripcionTaller, MiembroEquipo, Modulo, Taller
from pilotos.permissions import can_manage_team, can_see_taller, can_see_team, is_member

bp = Blueprint("pilotos_equipo", __name__, url_prefix="/equipo")


def my_teams(user: Any) -> list[Equipo]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        db.session.scalars(
            sa.select(Equipo)
            .join(MiembroEquipo, MiembroEquipo.equipo_id == Equipo.id)
            .where(MiembroEquipo.user_id == user.id)
            .order_by(Equipo.id)
        )
    )


def _team(equipo_id: int, *, member: bool = False) -> Equipo:
    equipo = db.session.get(Equipo, equipo_id)
    if equipo is None or not can_see_team(current_user, equipo):
        abort(404)
    if member and not is_member(current_user, equipo):
        abort(403)
    return equipo


def _errors(error: ops.FormacionError) -> None:
    for message in error.messages:
        flash(message, "error")


def _talleres(equipo: Equipo) -> list[Taller]:
    return list(
        db.session.scalars(
            sa.select(Taller)
            .where(
                Taller.convocatoria_id == equipo.convocatoria_id,
                sa.or_(Taller.region.is_(None), Taller.region == equipo.region),
            )
            .order_by(Taller.starts_at, Taller.id)
        )
    )


@bp.route("/")
@access(LOGGED_IN)
def index() -> Any:
    teams = my_teams(current_user)
    if len(teams) == 1:
        return redirect(url_for(".home", equipo_id=teams[0].id))
    return render_template("pilotos/equipo/index.html", teams=teams)


@bp.route("/<int:equipo_id>")
@access(LOGGED_IN)
def home(equipo_id: int) -> Any:
    equipo = _team(equipo_id)
    talleres = _talleres(equipo)
    registered = {
        row.taller_id: row
        for row in db.session.scalars(
            sa.select(InscripcionTaller).where(InscripcionTaller.equipo_id == equipo.id)
        )
    }
    modulos = ops.modulos_of(equipo.convocatoria_id)
    done = ops.progress(equipo.convocatoria_id, [equipo.id])
    miembros = list(
        db.session.scalars(
            sa.select(MiembroEquipo)
            .where(MiembroEquipo.equipo_id == equipo.id)
            .options(joinedload(MiembroEquipo.user))
            .order_by(MiembroEquipo.id)
        )
    )
    member = is_member(current_user, equipo)
    return render_template(
        "pilotos/equipo/home.html",
        equipo=equipo,
        talleres=talleres,
        registered=registered,
        modulos=modulos,
        done={m: n for (_e, m), n in done.items()},
        miembros=miembros,
        member=member,
        invite_form=InviteForm(),
        now=chile.utcnow(),
        manager=can_manage_team(current_user, equipo),
    )


@bp.route("/<int:equipo_id>/invitar", methods=["POST"])
@access(LOGGED_IN)
def invite(equipo_id: int) -> Any:
    equipo = _team(equipo_id, member=True)
    form = InviteForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for(".home", equipo_id=equipo.id)), 303
    try:
        ops.invite_member(current_user, equipo, form.email.data or "")
    except ops.FormacionError as error:
        _errors(error)
        return redirect(url_for(".home", equipo_id=equipo.id)), 303
    flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
    return redirect(url_for(".home", equipo_id=equipo.id))


@bp.route("/invitacion/<token>", methods=["GET", "POST"])
@access(LOGGED_IN)
def accept(token: str) -> Any:
    invitacion = ops.invitation_for(token)
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            equipo = ops.accept_invitation(current_user, token)
        except ops.FormacionError as error:
            return render_template(
                "pilotos/equipo/accept.html", invitacion=None, form=form, messages=error.messages
            ), 409
        flash(_("You joined the team %(team)s.", team=equipo.name), "success")
        return redirect(url_for(".home", equipo_id=equipo.id))
    messages = []
    status = 200
    if invitacion is None:
        messages, status = [_("This invitation link is not valid.")], 404
    elif invitacion.accepted_at is not None:
        messages, status = [_("This invitation was already used.")], 410
    elif invitacion.expires_at <= chile.utcnow():
        messages, status = [_("This invitation expired: ask the team for a new one.")], 410
    return render_template(
        "pilotos/equipo/accept.html",
        invitacion=invitacion if not messages else None,
        form=form,
        messages=messages,
    ), status


def _taller_of(equipo: Equipo, taller_id: int) -> Taller:
    taller = db.session.get(Taller, taller_id)
    if taller is None or taller.convocatoria_id != equipo.convocatoria_id:
        abort(404)
    return taller


@bp.route("/<int:equipo_id>/talleres/<int:taller_id>/inscribir", methods=["POST"])
@access(LOGGED_IN)
def register(equipo_id: int, taller_id: int) -> Any:
    equipo = _team(equipo_id, member=True)
    taller = _taller_of(equipo, taller_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        ops.register_team(current_user, equipo, taller)
    except ops.FormacionError as error:
        _errors(error)
        return redirect(url_for(".home", equipo_id=equipo.id)), 303
    flash(_("Your team is registered for %(title)s.", title=taller.title), "success")
    return redirect(url_for(".home", equipo_id=equipo.id))


@bp.route("/<int:equipo_id>/talleres/<int:taller_id>/anular", methods=["POST"])
@access(LOGGED_IN)
def unregister(equipo_id: int, taller_id: int) -> Any:
    equipo = _team(equipo_id, member=True)
    taller = _taller_of(equipo, taller_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        ops.unregister_team(current_user, equipo, taller)
    except ops.FormacionError as error:
        _errors(error)
        return redirect(url_for(".home", equipo_id=equipo.id)), 303
    flash(_("Your team is no longer registered for %(title)s.", title=taller.title), "success")
    return redirect(url_for(".home", equipo_id=equipo.id))


@bp.route("/<int:equipo_id>/modulos/<int:modulo_id>", methods=["GET", "POST"])
@access(LOGGED_IN)
def modulo(equipo_id: int, modulo_id: int) -> Any:
    equipo = _team(equipo_id)
    modulo = db.session.get(Modulo, modulo_id)
    if modulo is None or modulo.convocatoria_id != equipo.convocatoria_id:
        abort(404)
    member = is_member(current_user, equipo)
    form = EmptyForm()
    if request.method == "POST":
        if not member:
            abort(403)
        if not form.validate_on_submit():
            abort(400)
        ids = {parse_int(v, minimum=1) for v in request.form.getlist("done")}
        try:
            ops.set_progress(current_user, equipo, modulo, {i for i in ids if i is not None})
        except ops.FormacionError as error:
            _errors(error)
            return redirect(url_for(".modulo", equipo_id=equipo.id, modulo_id=modulo.id)), 303
        flash(_("Checklist saved."), "success")
        return redirect(url_for(".modulo", equipo_id=equipo.id, modulo_id=modulo.id))
    return render_template(
        "pilotos/equipo/modulo.html",
        equipo=equipo,
        modulo=modulo,
        body=render_markdown(modulo.body),
        done=ops.done_items(equipo.id, modulo.id),
        member=member,
        form=form,
    )


@bp.route("/talleres/<int:taller_id>/calendario.ics")
@access(LOGGED_IN)
def calendar(taller_id: int) -> Any:
    taller = db.session.get(Taller, taller_id)
    if taller is None or not can_see_taller(current_user, taller):
        abort(404)
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "fondoidea"
    body = workshop_ics(
        taller,
        host=host,
        url=external_url("pilotos_equipo.calendar", taller_id=taller.id),
        now=chile.utcnow(),
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="taller-{taller.id}.ics"'
    return response
