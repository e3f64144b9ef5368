"""Demo day pages: the organiser's (lead) event page with jury, live totals, results and the award; the
juror's list of teams, the phone-friendly pitch rubric and the conflict declaration."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from convocatorias.models import Convocatoria
from idea.accounts import normalize_email
from idea.extensions import db
from idea.forms import EmptyForm
from idea.models import Role, User
from idea.params import parse_int
from idea.permissions import access, roles
from pilotos import demoday as dops
from pilotos.demoday_forms import ConflictoForm, DemoDayForm, JuradoForm
from pilotos.demoday_models import DemoDay, EstadoDemoDay, JuradoDemoDay, PuntajePitch
from pilotos.models import Equipo
from pilotos.operations import FormacionError
from pilotos.permissions import can_lead_call, regions_of

bp = Blueprint("pilotos_demoday", __name__)

LEAD = roles(Role.ENCARGADO_TECNICO)
JURY = roles(Role.JURADO)


def can_organise(user: Any, demoday: DemoDay) -> bool:
    """Admins and leads of the call whose regions cover the demo day's."""
    if not can_lead_call(user, demoday.convocatoria):
        return False
    regions = regions_of(user, demoday.convocatoria_id)
    return regions is None or (bool(demoday.regions) and set(demoday.regions) <= set(regions))


def _call(convocatoria_id: int) -> Convocatoria:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None or not can_lead_call(current_user, convocatoria):
        abort(404)
    return convocatoria


def _organised(demoday_id: int) -> DemoDay:
    demoday = db.session.get(DemoDay, demoday_id)
    if demoday is None or not can_organise(current_user, demoday):
        abort(404)
    return demoday


def _flash(error: FormacionError) -> None:
    for message in error.messages:
        flash(message, "error")


def _labels() -> dict[str, Any]:
    return {
        "helices": dops.HELICES,
        "status_labels": {
            "preparacion": _("In preparation"),
            "abierto": _("Open for scoring"),
            "cerrado": _("Closed"),
        },
    }


# --- organiser -------------------------------------------------------------------------------------------


@bp.route("/gestion/formacion/<int:convocatoria_id>/demoday", methods=["GET", "POST"])
@access(LEAD)
def lead_list(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    form = DemoDayForm()
    if form.validate_on_submit():
        regions = [form.region.data] if form.region.data else []
        try:
            demoday = dops.create_demoday(
                current_user,
                convocatoria,
                form.name.data or "",
                regions,
                form.budget.data or 0,
                form.place.data or "",
            )
            if not can_organise(current_user, demoday):
                raise FormacionError(_("Choose a region you work on."))
        except FormacionError as error:
            db.session.rollback()
            _flash(error)
        else:
            db.session.commit()
            flash(_("Demo day created."), "success")
            return redirect(url_for(".lead_detail", demoday_id=demoday.id))
    demodays = [
        d
        for d in db.session.scalars(
            sa.select(DemoDay).where(DemoDay.convocatoria_id == convocatoria.id).order_by(DemoDay.id)
        )
        if can_organise(current_user, d)
    ]
    return render_template(
        "pilotos/demoday/lead_list.html", convocatoria=convocatoria, demodays=demodays, form=form, **_labels()
    ), (422 if form.errors else 200)


@bp.route("/gestion/formacion/demoday/<int:demoday_id>")
@access(LEAD)
def lead_detail(demoday_id: int) -> Any:
    demoday = _organised(demoday_id)
    jurados = list(
        db.session.scalars(
            sa.select(JuradoDemoDay).where(JuradoDemoDay.demoday_id == demoday.id).order_by(JuradoDemoDay.id)
        )
    )
    db.session.scalars(sa.select(User).where(User.id.in_([j.user_id for j in jurados]))).all()  # one query
    return render_template(
        "pilotos/demoday/lead_detail.html",
        demoday=demoday,
        jurados=jurados,
        totals=dops.totals(demoday) if demoday.status != EstadoDemoDay.PREPARACION else [],
        adjudicaciones=dops.adjudicaciones(demoday),
        missing=[str(dops.HELICES[h]) for h in dops.missing_helices(demoday)],
        jurado_form=JuradoForm(),
        form=EmptyForm(),
        **_labels(),
    )


@bp.route("/gestion/formacion/demoday/<int:demoday_id>/jurados", methods=["POST"])
@access(LEAD)
def add_juror(demoday_id: int) -> Any:
    demoday = _organised(demoday_id)
    form = JuradoForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for(".lead_detail", demoday_id=demoday.id)), 303
    user = db.session.scalar(
        sa.select(User).where(sa.func.lower(User.email) == normalize_email(form.email.data or ""))
    )
    try:
        dops.add_juror(current_user, demoday, user, form.helix.data or "", form.organization.data or "")
    except FormacionError as error:
        db.session.rollback()
        _flash(error)
        return redirect(url_for(".lead_detail", demoday_id=demoday.id)), 303
    db.session.commit()
    flash(_("Juror added."), "success")
    return redirect(url_for(".lead_detail", demoday_id=demoday.id))


@bp.route("/gestion/formacion/demoday/<int:demoday_id>/abrir", methods=["POST"])
@access(LEAD)
def open_(demoday_id: int) -> Any:
    demoday = _organised(demoday_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        dops.open_demoday(current_user, demoday)
    except FormacionError as error:
        db.session.rollback()
        _flash(error)
        return redirect(url_for(".lead_detail", demoday_id=demoday.id)), 303
    db.session.commit()
    flash(_("The demo day is open: jurors can score."), "success")
    return redirect(url_for(".lead_detail", demoday_id=demoday.id))


@bp.route("/gestion/formacion/demoday/<int:demoday_id>/adjudicar", methods=["POST"])
@access(LEAD)
def award(demoday_id: int) -> Any:
    demoday = _organised(demoday_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        dops.select_and_close(current_user, demoday)
    except FormacionError as error:
        db.session.rollback()
        _flash(error)
        return redirect(url_for(".lead_detail", demoday_id=demoday.id)), 303
    db.session.commit()
    flash(_("The award is recorded and the letters are being sent."), "success")
    return redirect(url_for(".lead_detail", demoday_id=demoday.id))


# --- jurors ----------------------------------------------------------------------------------------------


def _juror(demoday_id: int) -> tuple[DemoDay, JuradoDemoDay]:
    demoday = db.session.get(DemoDay, demoday_id)
    jurado = dops.juror_of(current_user, demoday) if demoday else None
    if demoday is None or jurado is None:
        abort(404)
    return demoday, jurado


def _pitching(demoday: DemoDay, equipo_id: int) -> Equipo:
    equipo = db.session.get(Equipo, equipo_id)
    if equipo is None or equipo.id not in {e.id for e in dops.teams_of(demoday)}:
        abort(404)
    return equipo


@bp.route("/jurado/demoday")
@access(JURY)
def jury_index() -> Any:
    jurados = list(
        db.session.scalars(
            sa.select(JuradoDemoDay)
            .where(JuradoDemoDay.user_id == current_user.id)
            .order_by(JuradoDemoDay.id)
        )
    )
    return render_template("pilotos/demoday/jury_index.html", jurados=jurados, **_labels())


@bp.route("/jurado/demoday/<int:demoday_id>")
@access(JURY)
def jury_teams(demoday_id: int) -> Any:
    demoday, jurado = _juror(demoday_id)
    equipos = dops.teams_of(demoday)
    counts = db.session.execute(
        sa.select(PuntajePitch.equipo_id, sa.func.count(PuntajePitch.id))
        .where(PuntajePitch.jurado_id == jurado.id)
        .group_by(PuntajePitch.equipo_id)
    ).all()
    scored = {equipo_id for equipo_id, n in counts if demoday.criterios and n == len(demoday.criterios)}
    return render_template(
        "pilotos/demoday/jury_teams.html",
        demoday=demoday,
        jurado=jurado,
        equipos=equipos,
        scored=scored,
        recused=dops.conflicted_teams(jurado),
        **_labels(),
    )


@bp.route("/jurado/demoday/<int:demoday_id>/equipos/<int:equipo_id>", methods=["GET", "POST"])
@access(JURY)
def jury_score(demoday_id: int, equipo_id: int) -> Any:
    demoday, jurado = _juror(demoday_id)
    equipo = _pitching(demoday, equipo_id)
    form = EmptyForm()
    recused = equipo.id in dops.conflicted_teams(jurado)
    problems: list[str] = []
    values: dict[int, int | None] = dops.my_scores(jurado, equipo.id)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        values = {
            c.id: parse_int(request.form.get(f"c{c.id}"), minimum=1, maximum=7) for c in demoday.criterios
        }
        try:
            dops.score(current_user, jurado, equipo, values)
        except FormacionError as error:
            db.session.rollback()
            problems = error.messages
        else:
            db.session.commit()
            flash(_("Scores saved for %(team)s.", team=equipo.name), "success")
            return redirect(url_for(".jury_teams", demoday_id=demoday.id))
    return render_template(
        "pilotos/demoday/jury_score.html",
        demoday=demoday,
        equipo=equipo,
        values=values,
        recused=recused,
        form=form,
        conflicto_form=ConflictoForm(),
        page_errors=[{"message": m} for m in problems],
        **_labels(),
    ), (403 if problems and recused else 422 if problems else 200)


@bp.route("/jurado/demoday/<int:demoday_id>/equipos/<int:equipo_id>/conflicto", methods=["POST"])
@access(JURY)
def jury_conflict(demoday_id: int, equipo_id: int) -> Any:
    demoday, jurado = _juror(demoday_id)
    equipo = _pitching(demoday, equipo_id)
    form = ConflictoForm()
    if not form.validate_on_submit():
        flash(_("Say briefly what the conflict is."), "error")
        return redirect(url_for(".jury_score", demoday_id=demoday.id, equipo_id=equipo.id)), 303
    try:
        dops.declare_conflict(current_user, jurado, equipo, form.reason.data or "")
    except FormacionError as error:
        db.session.rollback()
        _flash(error)
        return redirect(url_for(".jury_score", demoday_id=demoday.id, equipo_id=equipo.id)), 303
    db.session.commit()
    flash(_("Conflict declared: you will not score %(team)s.", team=equipo.name), "success")
    return redirect(url_for(".jury_teams", demoday_id=demoday.id))


def _nav(user: Any) -> list[dict[str, str]]:
    if user.is_authenticated and user.has_any_role(Role.JURADO):
        return [{"url": url_for("pilotos_demoday.jury_index"), "label": _("Demo day")}]
    return []


def _demodays(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = db.session.execute(
        sa.select(DemoDay.id, DemoDay.name).where(DemoDay.id.in_([int(i) for i in ids if i.isdigit()]))
    )
    return {str(id_): (name, url_for("pilotos_demoday.lead_detail", demoday_id=id_)) for id_, name in rows}


ACTIONS = {
    "demoday.created": _l("Created a demo day"),
    "demoday.juror_added": _l("Added a juror to a demo day"),
    "demoday.opened": _l("Opened a demo day's scoring"),
    "demoday.conflict": _l("Declared a conflict with a team at a demo day"),
    "demoday.scored": _l("Scored a team's pitch"),
    "demoday.awarded": _l("Recorded a demo day's award"),
}


def init_demoday(app: Flask) -> None:
    from idea import add_nav_provider, audit

    app.register_blueprint(bp)
    add_nav_provider(app, _nav)
    audit.register_labels(
        app,
        actions=ACTIONS,
        fields={
            "helix": _l("Helix"),
            "adjudicados": _l("Awarded teams"),
            "total": _l("Total awarded"),
            "budget": _l("Remaining budget"),
            "regions": _l("Regions"),
        },
        objects={"DemoDay": (_l("Demo day"), _demodays)},
    )
