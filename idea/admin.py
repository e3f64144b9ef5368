"""Administration pages of the core: users and their roles, staff invitations, the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from idea import accounts
from idea.extensions import db
from idea.forms import AuditFilterForm, EmptyForm, GrantRoleForm, InviteStaffForm
from idea.models import EventoAuditoria, Role, RoleAssignment, User
from idea.params import day_end_utc, day_start_utc, page_param, parse_day, text_param
from idea.permissions import ADMIN, access
from idea.search import contains_text

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50

# Packages register a provider of (id, label) pairs so staff roles can be bound to a call;
# the core stays ignorant of what a call is.
CallChoicesProvider = Callable[[], list[tuple[str, str]]]


def call_choices() -> list[tuple[str, str]]:
    provider: CallChoicesProvider | None = current_app.extensions.get("idea_call_choices")
    return provider() if provider else []


def _scope(form: GrantRoleForm) -> tuple[Role, int | None, str | None]:
    role = Role(form.role.data)
    convocatoria_id = int(form.convocatoria_id.data) if form.convocatoria_id.data else None
    return role, convocatoria_id, form.region.data or None


def sections() -> list[dict[str, Any]]:
    """The pages of the administration: the core's and those packages added with `add_admin_section`."""
    return list(current_app.extensions.get("idea_admin_sections", []))


@bp.app_context_processor
def _admin_sections() -> dict[str, Any]:
    return {"admin_sections": sections}


def start_card(user: Any) -> list[dict[str, Any]]:
    """The administration on an admin's start page."""
    if not (getattr(user, "is_authenticated", False) and user.is_admin):
        return []
    return [
        {
            "url": url_for("admin.index"),
            "label": _("Administration"),
            "role": Role.ADMIN,
            "description": _(
                "Users and their roles, staff invitations, calls and challenges, and the audit log."
            ),
        }
    ]


@bp.route("/")
@access(ADMIN)
def index() -> Any:
    return render_template("admin/index.html")


@bp.route("/usuarios")
@access(ADMIN)
def users() -> Any:
    query = text_param("q")
    stmt = sa.select(User).order_by(User.created_at.desc(), User.id.desc())
    if query:
        stmt = stmt.where(sa.or_(contains_text(User.email, query), contains_text(User.name, query)))
    pagination = db.paginate(stmt, page=page_param(), per_page=PAGE_SIZE, error_out=False)
    return render_template("admin/users.html", pagination=pagination, query=query, calls=dict(call_choices()))


@bp.route("/usuarios/invitar", methods=["GET", "POST"])
@access(ADMIN)
def invite() -> Any:
    form = InviteStaffForm(call_choices())
    if form.validate_on_submit():
        role, convocatoria_id, region = _scope(form)
        try:
            user = accounts.invite_staff(
                current_user._get_current_object(),
                email=form.email.data,
                name=form.name.data,
                role=role,
                convocatoria_id=convocatoria_id,
                region=region,
            )
        except accounts.AccountError as error:
            form.role.errors = [*form.role.errors, error.message]
        else:
            flash(_("Invitation sent to %(email)s.", email=user.email), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/invite.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/usuarios/<int:user_id>", methods=["GET", "POST"])
@access(ADMIN)
def user_detail(user_id: int) -> Any:
    user = db.session.get(User, user_id) or abort(404)
    form = GrantRoleForm(call_choices())
    if form.validate_on_submit():
        role, convocatoria_id, region = _scope(form)
        try:
            accounts.grant_role(
                current_user._get_current_object(), user, role, convocatoria_id=convocatoria_id, region=region
            )
        except accounts.AccountError as error:
            form.role.errors = [*form.role.errors, error.message]
        else:
            flash(_("Role granted."), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    events = db.session.scalars(
        sa.select(EventoAuditoria)
        .where(EventoAuditoria.object_type == "User", EventoAuditoria.object_id == str(user.id))
        .order_by(EventoAuditoria.created_at.desc())
        .limit(20)
    ).all()
    return render_template(
        "admin/user_detail.html",
        user=user,
        form=form,
        revoke_form=EmptyForm(),
        events=events,
        calls=dict(call_choices()),
    ), 422 if form.is_submitted() else 200


@bp.route("/roles/<int:assignment_id>/revocar", methods=["POST"])
@access(ADMIN)
def revoke(assignment_id: int) -> Any:
    assignment = db.session.get(RoleAssignment, assignment_id) or abort(404)
    user_id = assignment.user_id
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        accounts.revoke_role(current_user._get_current_object(), assignment)
    except accounts.AccountError as error:
        flash(error.message, "error")
    else:
        flash(_("Role revoked."), "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


def _parse_day(value: str | None) -> date | None:
    try:
        return parse_day(value)
    except ValueError:
        return None


@bp.route("/auditoria")
@access(ADMIN)
def audit_log() -> Any:
    form = AuditFilterForm(request.args)
    stmt = sa.select(EventoAuditoria).order_by(EventoAuditoria.created_at.desc(), EventoAuditoria.id.desc())
    if form.actor.data:
        stmt = stmt.join(User, EventoAuditoria.actor_id == User.id).where(
            contains_text(User.email, form.actor.data)
        )
    if form.action.data:
        stmt = stmt.where(contains_text(EventoAuditoria.action, form.action.data))
    if form.object_type.data:
        stmt = stmt.where(EventoAuditoria.object_type == form.object_type.data.strip())
    if form.object_id.data:
        stmt = stmt.where(EventoAuditoria.object_id == form.object_id.data.strip())
    day_from, day_to = _parse_day(form.date_from.data), _parse_day(form.date_to.data)
    if form.date_from.data and day_from is None:
        form.date_from.errors = [_("Use the form YYYY-MM-DD.")]
    if form.date_to.data and day_to is None:
        form.date_to.errors = [_("Use the form YYYY-MM-DD.")]
    if day_from:
        stmt = stmt.where(EventoAuditoria.created_at >= day_start_utc(day_from))
    if day_to:
        stmt = stmt.where(EventoAuditoria.created_at <= day_end_utc(day_to))
    pagination = db.paginate(stmt, page=page_param(), per_page=PAGE_SIZE, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("admin/audit.html", form=form, pagination=pagination, args=args)
