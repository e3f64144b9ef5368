"""Admin pages of calls and challenges: list, create, edit, preview, publish and move phases."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from convocatorias import operations as ops
from convocatorias import queries
from convocatorias.admin_forms import (
    ConvocatoriaForm,
    DesafioForm,
    FaseForm,
    default_year,
    desafio_initial,
    put_errors,
)
from convocatorias.models import Convocatoria, Desafio, GrupoVulnerable
from idea.extensions import db
from idea.forms import EmptyForm
from idea.models import EventoAuditoria, Role
from idea.permissions import ADMIN, access, roles

bp = Blueprint("convocatorias_admin", __name__, url_prefix="/admin/convocatorias")

# Technical leads may look (read-only); only admins change anything.
STAFF = roles(Role.ADMIN, Role.ENCARGADO_TECNICO)
INVALID = 422


def _actor() -> Any:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _render(template: str, status: int = 200, **context: Any) -> Any:
    context.setdefault("fase_labels", queries.FASE_LABELS)
    context.setdefault("date_labels", ops.PHASE_DATES)
    return render_template(f"convocatorias/admin/{template}", **context), status


def _load(convocatoria_id: int) -> Convocatoria:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None or not ops.can_view_admin(current_user, convocatoria):
        abort(404)
    return convocatoria


def _load_desafio(convocatoria: Convocatoria, desafio_id: int) -> Desafio:
    desafio = db.session.get(Desafio, desafio_id)
    if desafio is None or desafio.convocatoria_id != convocatoria.id:
        abort(404)
    return desafio


def _grupos(current: Desafio | None = None) -> list[GrupoVulnerable]:
    stmt = sa.select(GrupoVulnerable).order_by(GrupoVulnerable.name)
    condition = GrupoVulnerable.active.is_(True)
    if current is not None and current.grupo_vulnerable_id is not None:
        condition = sa.or_(condition, GrupoVulnerable.id == current.grupo_vulnerable_id)
    return list(db.session.scalars(stmt.where(condition)))


@bp.route("/")
@access(STAFF)
def index() -> Any:
    calls = db.session.scalars(ops.visible_calls_stmt(current_user)).all()
    counts = dict(db.session.execute(
        sa.select(Desafio.convocatoria_id, sa.func.count()).group_by(Desafio.convocatoria_id)).all())
    return _render("index.html", calls=calls, counts=counts, can_manage=ops.can_manage(current_user))


@bp.route("/nueva", methods=["GET", "POST"])
@access(ADMIN)
def create() -> Any:
    form = ConvocatoriaForm()
    if request.method == "GET":
        form.year.data = default_year()
    return _save_convocatoria(form, None)


@bp.route("/<int:convocatoria_id>")
@access(STAFF)
def detail(convocatoria_id: int) -> Any:
    convocatoria = _load(convocatoria_id)
    return _detail(convocatoria)


def _detail(convocatoria: Convocatoria, status: int = 200, errors: list[str] | None = None) -> Any:
    desafio_ids = [str(d.id) for d in convocatoria.desafios]
    events = db.session.scalars(
        sa.select(EventoAuditoria).where(sa.or_(
            sa.and_(EventoAuditoria.object_type == "Convocatoria",
                    EventoAuditoria.object_id == str(convocatoria.id)),
            sa.and_(EventoAuditoria.object_type == "Desafio", EventoAuditoria.object_id.in_(desafio_ids)),
        )).order_by(EventoAuditoria.created_at.desc(), EventoAuditoria.id.desc()).limit(15)
    ).all()
    problems = ops.publication_problems(convocatoria) if not convocatoria.is_published else []
    return _render("detail.html", status, convocatoria=convocatoria, problems=problems,
                   next_fase=ops.next_fase(convocatoria), events=events, errors=errors or [],
                   can_manage=ops.can_manage(current_user, convocatoria), button_form=EmptyForm())


def _refused(convocatoria: Convocatoria, error: ops.ConvocatoriaError) -> Any:
    """A refused button (publish, next phase, delete a challenge): nothing is kept; the detail says why."""
    db.session.rollback()
    return _detail(convocatoria, INVALID, errors=[p.message for p in error.problems])


@bp.route("/<int:convocatoria_id>/editar", methods=["GET", "POST"])
@access(ADMIN)
def edit(convocatoria_id: int) -> Any:
    convocatoria = _load(convocatoria_id)
    return _save_convocatoria(ConvocatoriaForm(obj=convocatoria), convocatoria)


def _save_convocatoria(form: ConvocatoriaForm, convocatoria: Convocatoria | None) -> Any:
    """Create (`convocatoria` None) or change a call from the form; a refused form is shown again (422)."""
    general: list[str] = []
    if form.validate_on_submit():
        try:
            if convocatoria is None:
                saved, changed = ops.create_convocatoria(_actor(), form.to_data()), None
            else:
                saved, changed = convocatoria, ops.update_convocatoria(_actor(), convocatoria, form.to_data())
        except ops.ConvocatoriaError as error:
            general = put_errors(form, error)
        else:
            if changed is None:
                flash(_("Call created as a draft. Now add its challenges."), "success")
            else:
                if saved.is_published and ops.RULE_FIELDS.intersection(changed):
                    flash(_("The call is already published: the change to its rules was recorded in the "
                            "audit log."), "warning")
                flash(_("Call saved.") if changed else _("Nothing changed."), "success")
            for notice in form.time_notices():
                flash(notice, "warning")
            return redirect(url_for("convocatorias_admin.detail", convocatoria_id=saved.id))
    return _render("form.html", INVALID if form.is_submitted() else 200, form=form, convocatoria=convocatoria,
                   general=general)


@bp.route("/<int:convocatoria_id>/vista-previa")
@access(STAFF)
def preview(convocatoria_id: int) -> Any:
    convocatoria = _load(convocatoria_id)
    # The public page's own partials and helpers, with every challenge shown in full.
    return _render("preview.html", convocatoria=convocatoria, plazo=queries.deadline_status(convocatoria),
                   etapas=queries.timeline(convocatoria))


@bp.route("/<int:convocatoria_id>/publicar", methods=["POST"])
@access(ADMIN)
def publish(convocatoria_id: int) -> Any:
    convocatoria = _load(convocatoria_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        ops.publish_convocatoria(_actor(), convocatoria)
    except ops.ConvocatoriaError as error:
        return _refused(convocatoria, error)
    flash(_("The call is published and open for submissions."), "success")
    return redirect(url_for("convocatorias_admin.detail", convocatoria_id=convocatoria.id))


@bp.route("/<int:convocatoria_id>/fase", methods=["POST"])
@access(ADMIN)
def change_fase(convocatoria_id: int) -> Any:
    convocatoria = _load(convocatoria_id)
    form = FaseForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.change_fase(_actor(), convocatoria, form.target.data)
    except ops.ConvocatoriaError as error:
        return _refused(convocatoria, error)
    flash(_("The call moved to the phase “%(fase)s”.", fase=queries.fase_label(convocatoria.fase)), "success")
    return redirect(url_for("convocatorias_admin.detail", convocatoria_id=convocatoria.id))


@bp.route("/<int:convocatoria_id>/desafios/nuevo", methods=["GET", "POST"])
@access(ADMIN)
def new_desafio(convocatoria_id: int) -> Any:
    convocatoria = _load(convocatoria_id)
    form = DesafioForm(grupos=_grupos())
    return _save_desafio(form, convocatoria, None)


@bp.route("/<int:convocatoria_id>/desafios/<int:desafio_id>", methods=["GET", "POST"])
@access(ADMIN)
def edit_desafio(convocatoria_id: int, desafio_id: int) -> Any:
    convocatoria = _load(convocatoria_id)
    desafio = _load_desafio(convocatoria, desafio_id)
    form = DesafioForm(grupos=_grupos(desafio), data=desafio_initial(desafio))
    return _save_desafio(form, convocatoria, desafio)


def _save_desafio(form: DesafioForm, convocatoria: Convocatoria, desafio: Desafio | None) -> Any:
    general: list[str] = []
    if form.validate_on_submit():
        try:
            if desafio is None:
                ops.create_desafio(_actor(), convocatoria, form.to_data())
            else:
                ops.update_desafio(_actor(), desafio, form.to_data())
        except ops.ConvocatoriaError as error:
            general = put_errors(form, error)
        else:
            flash(_("Challenge saved."), "success")
            return redirect(url_for("convocatorias_admin.detail", convocatoria_id=convocatoria.id))
    if not form.is_submitted():
        form.pad_indicators()
    return _render("desafio_form.html", INVALID if form.is_submitted() else 200, form=form,
                   convocatoria=convocatoria, desafio=desafio, general=general)


@bp.route("/<int:convocatoria_id>/desafios/<int:desafio_id>/eliminar", methods=["POST"])
@access(ADMIN)
def delete_desafio(convocatoria_id: int, desafio_id: int) -> Any:
    convocatoria = _load(convocatoria_id)
    desafio = _load_desafio(convocatoria, desafio_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        ops.delete_desafio(_actor(), desafio)
    except ops.ConvocatoriaError as error:
        return _refused(convocatoria, error)
    flash(_("Challenge deleted."), "success")
    return redirect(url_for("convocatorias_admin.detail", convocatoria_id=convocatoria.id))


def nav_links(user: Any) -> list[dict[str, str]]:
    """The menu entry of the call administration for technical leads; an admin reaches it through the one
    "Administration" entry of the core."""
    if not getattr(user, "is_authenticated", False) or user.is_admin:
        return []
    if not user.has_any_role(Role.ENCARGADO_TECNICO):
        return []
    return [{"url": url_for("convocatorias_admin.index"), "label": _("Administration")}]


def start_cards(user: Any) -> list[dict[str, Any]]:
    if not getattr(user, "is_authenticated", False) or user.is_admin:
        return []
    if not user.has_any_role(Role.ENCARGADO_TECNICO):
        return []
    return [{"url": url_for("convocatorias_admin.index"), "label": _("Calls and challenges"),
             "role": Role.ENCARGADO_TECNICO,
             "description": _("Prepare, publish and move calls through their phases; "
                              "edit their challenges.")}]


def call_choices() -> list[tuple[str, str]]:
    """(id, label) of every call, so staff roles can be bound to one (see idea.admin.call_choices)."""
    calls = db.session.scalars(sa.select(Convocatoria).order_by(Convocatoria.year.desc(), Convocatoria.title))
    # The year only when the title does not say it already ("Fondo IDEA 2027 (2027)" reads twice).
    return [(str(c.id), c.title if c.title_has_year else f"{c.title} ({c.year})") for c in calls]


def init_app(app: Any) -> None:
    """Plug the call administration into the app: blueprint, menu entry and call choices for roles."""
    from flask_babel import lazy_gettext as _l

    from idea import add_admin_section, add_nav_provider, add_start_provider

    app.register_blueprint(bp)
    add_nav_provider(app, nav_links)
    add_start_provider(app, start_cards)
    add_admin_section(app, "convocatorias_admin.index", _l("Calls and challenges"),
                      _l("Prepare, publish and move calls through their phases; edit their challenges."))
    app.extensions["idea_call_choices"] = call_choices
