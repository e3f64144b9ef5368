"""Mentoring pages: the lead's mentor directory and mentoring overview (suggestions, confirming a match,
weeks without a session), the mentor's teams and declared conflicts, and the mentoring page shared by the
mentor (logs sessions on a phone), the team (reads and comments) and the lead."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from convocatorias.models import Convocatoria, Fase
from idea import chile
from idea.extensions import db
from idea.forms import EmptyForm
from idea.models import Role, User
from idea.params import text_param
from idea.permissions import LOGGED_IN, access, roles
from idea.search import contains_text
from pilotos import mentoria as ops
from pilotos import mentoria_rules as rules
from pilotos.lead_views import teams_in_scope
from pilotos.mentoria_forms import CommentForm, ConflictForm, MatchForm, MentorForm, SesionForm, kind_label
from pilotos.mentoria_models import (
    ComentarioSesion,
    ConflictoMentor,
    EstadoMentoria,
    Mentor,
    Mentoria,
    SesionMentoria,
)
from pilotos.mentoria_permissions import (
    can_comment,
    can_edit_directory,
    can_log_session,
    can_see_mentoria,
    is_mentor_of,
)
from pilotos.models import Equipo
from pilotos.operations import FormacionError
from pilotos.permissions import can_lead_call, can_manage_team, can_see_team, is_member

bp = Blueprint("pilotos_mentoria", __name__)

LEAD = roles(Role.ENCARGADO_TECNICO)
MENTOR = roles(Role.MENTOR)
SUGGESTIONS_SHOWN = 3


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"tag_label": rules.tag_label, "reason_text": rules.reason_text, "mentor_kind": kind_label}


def _errors(error: FormacionError) -> None:
    for message in error.messages:
        flash(message, "error")


# --- directory ---------------------------------------------------------------------------------------


@bp.route("/gestion/formacion/mentores")
@access(LEAD)
def directory() -> Any:
    q = text_param("q")
    stmt = (
        sa.select(Mentor)
        .join(User, User.id == Mentor.user_id)
        .options(joinedload(Mentor.user))
        .order_by(User.name)
    )
    if q:
        stmt = stmt.where(sa.or_(contains_text(User.name, q), contains_text(Mentor.organization, q)))
    mentors = list(db.session.scalars(stmt).unique())
    return render_template(
        "pilotos/mentoria/directory.html", mentors=mentors, q=q, editable=can_edit_directory(current_user)
    )


def _mentor_form_page(mentor: Mentor | None) -> Any:
    editable = can_edit_directory(current_user)
    if not editable and request.method == "POST":
        abort(403)
    form = MentorForm(obj=mentor)
    if mentor is not None and request.method == "GET":
        form.region.data = mentor.region or ""
        form.kind.data = mentor.kind.value
        form.tags.data = [t for t in mentor.tags if t in rules.TAGS]
        form.free_tags.data = ", ".join(t for t in mentor.tags if t not in rules.TAGS)
    conflict_form = ConflictForm(team_choices=_team_choices(), prefix="conflicto")
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            user = mentor.user if mentor is not None else None
            if user is None:
                email = (form.email.data or "").strip().lower()
                user = (
                    db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))
                    if email
                    else None
                )
                if user is None:
                    form.email.errors = list(form.email.errors) + [
                        _("No account with this e-mail: the person must register first.")
                    ]
            if user is not None:
                try:
                    saved = ops.save_mentor(current_user, user, form.to_data(), mentor)
                except FormacionError as error:
                    form.form_errors.extend(error.messages)
                else:
                    flash(_("Mentor saved."), "success")
                    return redirect(url_for(".edit_mentor", mentor_id=saved.id))
    return render_template(
        "pilotos/mentoria/mentor_form.html",
        form=form,
        mentor=mentor,
        editable=editable,
        conflict_form=conflict_form,
        delete_form=EmptyForm(),
    ), status


@bp.route("/gestion/formacion/mentores/nuevo", methods=["GET", "POST"])
@access(LEAD)
def new_mentor() -> Any:
    if not can_edit_directory(current_user):
        abort(403)
    return _mentor_form_page(None)


def _mentor(mentor_id: int) -> Mentor:
    mentor = db.session.get(Mentor, mentor_id)
    if mentor is None:
        abort(404)
    return mentor


@bp.route("/gestion/formacion/mentores/<int:mentor_id>", methods=["GET", "POST"])
@access(LEAD)
def edit_mentor(mentor_id: int) -> Any:
    return _mentor_form_page(_mentor(mentor_id))


@bp.route("/gestion/formacion/mentores/<int:mentor_id>/eliminar", methods=["POST"])
@access(LEAD)
def remove_mentor(mentor_id: int) -> Any:
    mentor = _mentor(mentor_id)
    if not can_edit_directory(current_user):
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        ops.remove_mentor(current_user, mentor)
    except FormacionError as error:
        _errors(error)
        return redirect(url_for(".edit_mentor", mentor_id=mentor.id)), 303
    flash(_("Mentor removed from the directory."), "success")
    return redirect(url_for(".directory"))


def _team_choices() -> list[tuple[str, str]]:
    """Teams of calls in training, for declaring a conflict."""
    rows = db.session.execute(
        sa.select(Equipo.id, Equipo.name, Convocatoria.title)
        .join(Convocatoria, Convocatoria.id == Equipo.convocatoria_id)
        .where(Convocatoria.fase.in_([Fase.FORMACION, Fase.EJECUCION]))
        .order_by(Convocatoria.id, Equipo.name)
    )
    return [(str(i), f"{name} ({title})") for i, name, title in rows]


def _add_conflict(mentor: Mentor, next_url: str) -> Any:
    form = ConflictForm(team_choices=_team_choices(), prefix="conflicto")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(next_url), 303
    equipo = db.session.get(Equipo, int(form.equipo_id.data)) if form.equipo_id.data else None
    try:
        ops.declare_conflict(
            current_user,
            mentor,
            rut=(form.rut.data or "").strip() or None,
            equipo=equipo,
            reason=form.reason.data or "",
        )
    except FormacionError as error:
        _errors(error)
        return redirect(next_url), 303
    flash(_("Conflict of interest declared."), "success")
    return redirect(next_url)


@bp.route("/gestion/formacion/mentores/<int:mentor_id>/conflictos", methods=["POST"])
@access(LEAD)
def lead_conflict(mentor_id: int) -> Any:
    mentor = _mentor(mentor_id)
    if not can_edit_directory(current_user):
        abort(403)
    return _add_conflict(mentor, url_for(".edit_mentor", mentor_id=mentor.id))


@bp.route("/mentoria/conflictos/<int:conflicto_id>/eliminar", methods=["POST"])
@access(LOGGED_IN)
def remove_conflict(conflicto_id: int) -> Any:
    conflicto = db.session.get(ConflictoMentor, conflicto_id)
    if conflicto is None:
        abort(404)
    own = conflicto.mentor.user_id == current_user.id
    if not own and not can_edit_directory(current_user):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    mentor_id = conflicto.mentor_id
    ops.remove_conflict(current_user, conflicto)
    flash(_("Conflict removed."), "success")
    return redirect(url_for(".my_conflicts") if own else url_for(".edit_mentor", mentor_id=mentor_id))


# --- the lead's overview -----------------------------------------------------------------------------


def _call(convocatoria_id: int) -> Convocatoria:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None or not can_lead_call(current_user, convocatoria):
        abort(404)
    return convocatoria


@bp.route("/gestion/formacion/<int:convocatoria_id>/mentorias")
@access(LEAD)
def overview(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    equipos = teams_in_scope(convocatoria)
    mentorias = ops.mentorias_of_teams([e.id for e in equipos])
    estados = ops.estados(mentorias)
    active = {m.equipo_id: m for m in mentorias if m.status == EstadoMentoria.ACTIVA}
    unmatched = [e for e in equipos if e.id not in active]
    suggestions: dict[int, list[rules.Sugerencia]] = {}
    mentors: dict[int, Mentor] = {}
    if unmatched:
        profiles = ops.team_profiles(unmatched)
        mentor_profiles, mentors = ops.mentor_profiles()
        suggestions = {
            e.id: rules.suggest(profiles[e.id], mentor_profiles, limit=SUGGESTIONS_SHOWN) for e in unmatched
        }
    overdue = [estados[m.id] for m in mentorias if estados[m.id].missed]
    return render_template(
        "pilotos/mentoria/overview.html",
        convocatoria=convocatoria,
        equipos=equipos,
        active=active,
        estados=estados,
        overdue=overdue,
        suggestions=suggestions,
        mentors=mentors,
    )


def _team_of_call(convocatoria: Convocatoria, equipo_id: int) -> Equipo:
    equipo = db.session.get(Equipo, equipo_id)
    if (
        equipo is None
        or equipo.convocatoria_id != convocatoria.id
        or not can_manage_team(current_user, equipo)
    ):
        abort(404)
    return equipo


@bp.route(
    "/gestion/formacion/<int:convocatoria_id>/mentorias/equipos/<int:equipo_id>", methods=["GET", "POST"]
)
@access(LEAD)
def match(convocatoria_id: int, equipo_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    equipo = _team_of_call(convocatoria, equipo_id)
    profile = ops.team_profiles([equipo])[equipo.id]
    mentor_profiles, mentors = ops.mentor_profiles()
    suggestions = rules.suggest(profile, mentor_profiles, limit=len(mentor_profiles) or 1)
    available = [p for p in mentor_profiles if not rules.excluded(profile, p)]
    choices = [
        (str(p.mentor_id), f"{mentors[p.mentor_id].name} · {mentors[p.mentor_id].organization}")
        for p in available
    ]
    form = MatchForm(mentor_choices=choices)
    if request.method == "GET" and form.start_date.data is None:
        form.start_date.data = ops.today()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            mentor = db.session.get(Mentor, int(form.mentor_id.data))
            try:
                if mentor is None:
                    raise FormacionError(_("Choose a mentor from the list."))
                ops.confirm_match(current_user, equipo, mentor, form.start_date.data)
            except FormacionError as error:
                form.form_errors.extend(error.messages)
            else:
                flash(_("%(name)s will mentor %(team)s.", name=mentor.name, team=equipo.name), "success")
                return redirect(url_for(".overview", convocatoria_id=convocatoria.id))
    current = list(
        db.session.scalars(
            sa.select(Mentoria)
            .where(Mentoria.equipo_id == equipo.id)
            .options(joinedload(Mentoria.mentor).joinedload(Mentor.user))
            .order_by(Mentoria.id)
        ).unique()
    )
    return render_template(
        "pilotos/mentoria/match.html",
        convocatoria=convocatoria,
        equipo=equipo,
        suggestions=suggestions,
        mentors=mentors,
        form=form,
        current=current,
        end_form=EmptyForm(),
        region_name=chile.region_name,
    ), status


@bp.route("/mentoria/<int:mentoria_id>/finalizar", methods=["POST"])
@access(LEAD)
def end(mentoria_id: int) -> Any:
    mentoria = db.session.get(Mentoria, mentoria_id)
    if mentoria is None or not can_manage_team(current_user, mentoria.equipo):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        ops.end_mentoring(current_user, mentoria)
    except FormacionError as error:
        _errors(error)
        return redirect(url_for(".mentoria", mentoria_id=mentoria.id)), 303
    flash(_("Mentoring ended."), "success")
    return redirect(url_for(".mentoria", mentoria_id=mentoria.id))


# --- the mentor --------------------------------------------------------------------------------------


@bp.route("/mentoria/")
@access(MENTOR)
def mine() -> Any:
    mentor = ops.mentor_of(current_user)
    mentorias = (
        list(
            db.session.scalars(
                sa.select(Mentoria)
                .where(Mentoria.mentor_id == mentor.id)
                .options(joinedload(Mentoria.equipo), joinedload(Mentoria.mentor).joinedload(Mentor.user))
                .order_by(Mentoria.status, Mentoria.start_date.desc())
            ).unique()
        )
        if mentor is not None
        else []
    )
    return render_template(
        "pilotos/mentoria/mine.html", mentor=mentor, mentorias=mentorias, estados=ops.estados(mentorias)
    )


@bp.route("/mentoria/conflictos", methods=["GET", "POST"])
@access(MENTOR)
def my_conflicts() -> Any:
    mentor = ops.mentor_of(current_user)
    if mentor is None:
        abort(404)
    if request.method == "POST":
        return _add_conflict(mentor, url_for(".my_conflicts"))
    conflictos = list(
        db.session.scalars(
            sa.select(ConflictoMentor)
            .where(ConflictoMentor.mentor_id == mentor.id)
            .options(joinedload(ConflictoMentor.equipo))
            .order_by(ConflictoMentor.id)
        )
    )
    return render_template(
        "pilotos/mentoria/conflicts.html",
        mentor=mentor,
        conflictos=conflictos,
        form=ConflictForm(team_choices=_team_choices(), prefix="conflicto"),
        delete_form=EmptyForm(),
    )


# --- the mentoring page ------------------------------------------------------------------------------


def _mentoria(mentoria_id: int) -> Mentoria:
    mentoria = db.session.scalar(
        sa.select(Mentoria)
        .where(Mentoria.id == mentoria_id)
        .options(joinedload(Mentoria.equipo), joinedload(Mentoria.mentor).joinedload(Mentor.user))
    )
    if mentoria is None or not can_see_mentoria(current_user, mentoria):
        abort(404)
    return mentoria


def _page(mentoria: Mentoria, sesion_form: SesionForm | None = None, status: int = 200) -> Any:
    sesiones = list(
        db.session.scalars(
            sa.select(SesionMentoria)
            .where(SesionMentoria.mentoria_id == mentoria.id)
            .options(selectinload(SesionMentoria.comentarios).joinedload(ComentarioSesion.user))
            .order_by(SesionMentoria.held_on, SesionMentoria.id)
        )
    )
    today = ops.today()
    by_week: dict[int, list[SesionMentoria]] = {}
    for s in sesiones:
        week = rules.week_of(mentoria.start_date, s.held_on)
        if week is not None:
            by_week.setdefault(week, []).append(s)
    missed = set(rules.missed_weeks(mentoria.start_date, [s.held_on for s in sesiones], today))
    loggable = can_log_session(current_user, mentoria) and mentoria.status == EstadoMentoria.ACTIVA
    if sesion_form is None and loggable:
        sesion_form = SesionForm(formdata=None)
        sesion_form.held_on.data = min(today, rules.plan_end(mentoria.start_date))
        sesion_form.duration_minutes.data = 60
    return render_template(
        "pilotos/mentoria/mentoria.html",
        mentoria=mentoria,
        equipo=mentoria.equipo,
        plan=rules.plan(mentoria.start_date),
        by_week=by_week,
        missed=missed,
        current_week=rules.current_week(mentoria.start_date, today),
        sesiones=sesiones,
        sesion_form=sesion_form if loggable else None,
        comment_forms={s.id: CommentForm(formdata=None, prefix=f"s{s.id}") for s in sesiones},
        commentable=can_comment(current_user, mentoria),
        mentor_view=is_mentor_of(current_user, mentoria),
        manager=can_manage_team(current_user, mentoria.equipo),
        end_form=EmptyForm(),
    ), status


@bp.route("/mentoria/<int:mentoria_id>")
@access(LOGGED_IN)
def mentoria(mentoria_id: int) -> Any:
    return _page(_mentoria(mentoria_id))


@bp.route("/mentoria/<int:mentoria_id>/sesiones", methods=["POST"])
@access(LOGGED_IN)
def log_session(mentoria_id: int) -> Any:
    mentoria = _mentoria(mentoria_id)
    if not can_log_session(current_user, mentoria):
        abort(403)
    form = SesionForm()
    if not form.validate_on_submit():
        return _page(mentoria, form, 422)
    try:
        ops.log_session(current_user, mentoria, form.to_data())
    except FormacionError as error:
        form.form_errors.extend(error.messages)
        return _page(mentoria, form, 422)
    flash(_("Session logged."), "success")
    return redirect(url_for(".mentoria", mentoria_id=mentoria.id, _anchor="sesiones"))


@bp.route("/mentoria/<int:mentoria_id>/sesiones/<int:sesion_id>/comentarios", methods=["POST"])
@access(LOGGED_IN)
def comment(mentoria_id: int, sesion_id: int) -> Any:
    mentoria = _mentoria(mentoria_id)
    if not can_comment(current_user, mentoria):
        abort(403)
    sesion = db.session.get(SesionMentoria, sesion_id)
    if sesion is None or sesion.mentoria_id != mentoria.id:
        abort(404)
    form = CommentForm(prefix=f"s{sesion.id}")
    anchor = f"sesion-{sesion.id}"
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for(".mentoria", mentoria_id=mentoria.id, _anchor=anchor)), 303
    try:
        ops.comment(current_user, sesion, form.body.data or "")
    except FormacionError as error:
        _errors(error)
        return redirect(url_for(".mentoria", mentoria_id=mentoria.id, _anchor=anchor)), 303
    flash(_("Comment published."), "success")
    return redirect(url_for(".mentoria", mentoria_id=mentoria.id, _anchor=anchor))


@bp.route("/equipo/<int:equipo_id>/mentoria")
@access(LOGGED_IN)
def team(equipo_id: int) -> Any:
    """The team's way in: its current mentoring, or a page saying none is assigned yet."""
    equipo = db.session.get(Equipo, equipo_id)
    if equipo is None:
        abort(404)
    mentorias = list(
        db.session.scalars(
            sa.select(Mentoria)
            .where(Mentoria.equipo_id == equipo.id)
            .options(joinedload(Mentoria.mentor).joinedload(Mentor.user))
            .order_by(Mentoria.id.desc())
        ).unique()
    )
    # The team and its leads, or the team's own mentor (who sees nothing of other teams).
    if not can_see_team(current_user, equipo):
        mentorias = [m for m in mentorias if m.mentor.user_id == current_user.id]
        if not mentorias:
            abort(404)
    if len(mentorias) == 1:
        return redirect(url_for(".mentoria", mentoria_id=mentorias[0].id))
    return render_template(
        "pilotos/mentoria/team.html",
        equipo=equipo,
        mentorias=mentorias,
        member=is_member(current_user, equipo),
    )
