"""Account pages: register, confirm e-mail, log in and out, passwords, own profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from idea import accounts
from idea.extensions import limiter
from idea.forms import (
    ChangePasswordForm,
    EmailForm,
    EmptyForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    SetPasswordForm,
)
from idea.permissions import LOGGED_IN, PUBLIC, access

bp = Blueprint("auth", __name__, url_prefix="/cuenta")

INVALID = 422  # a form that was refused: the page is shown again, and nothing is kept


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None: a `next=` link cannot send people elsewhere.

    The one check for every `next` (log-in, language switch, organisation form). Browsers drop tabs and
    newlines inside URLs and read a backslash as a slash, so such a path could still name another host:
    anything with a control character, a backslash, a scheme or a host is refused, also after
    percent-decoding (`/%5cevil.example`, `/%09/evil.example`).
    """
    if not target or len(target) > 2000:
        return None
    for candidate in {target, unquote(target), unquote(unquote(target))}:
        if (
            not candidate.startswith("/")
            or candidate.startswith("//")
            or "\\" in candidate
            or any(ord(c) < 32 or ord(c) == 127 or (c.isspace() and c != " ") for c in candidate)
        ):
            return None
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc:
            return None
    return target


def _form_error(form: Any, error: accounts.AccountError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, *error.messages]
    else:
        flash(error.message, "error")


@bp.route("/registro", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit("10 per hour", methods=["POST"])
def register() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("core.start"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            accounts.register_user(form.email.data, form.name.data, form.password.data)
        except accounts.AccountError as error:
            _form_error(form, error)
        else:
            return redirect(url_for("auth.check_inbox"))
    return render_template("auth/register.html", form=form), INVALID if form.is_submitted() else 200


@bp.route("/revisa-tu-correo")
@access(PUBLIC)
def check_inbox() -> Any:
    return render_template("auth/check_inbox.html")


@bp.route("/confirmar/<token>", methods=["GET", "POST"])
@access(PUBLIC)
def confirm_email(token: str) -> Any:
    # The link only shows a button: a GET must not change anything (mail scanners follow links).
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            accounts.confirm_email(token)
        except accounts.AccountError as error:
            flash(error.message, "error")
            return render_template("auth/confirm.html", form=None), 400
        flash(_("Your e-mail is confirmed. You can log in now."), "success")
        return redirect(url_for("auth.login"))
    try:
        accounts.check_confirm_token(token)
    except accounts.AccountError as error:
        flash(error.message, "error")
        return render_template("auth/confirm.html", form=None), 400
    return render_template("auth/confirm.html", form=form)


@bp.route("/reenviar-confirmacion", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit("5 per hour", methods=["POST"])
def resend_confirmation() -> Any:
    form = EmailForm()
    if form.validate_on_submit():
        user = accounts.find_user_by_email(form.email.data)
        if user is not None and not user.is_confirmed:
            accounts.send_confirmation(user)
        return redirect(url_for("auth.check_inbox"))
    return render_template("auth/resend.html", form=form), INVALID if form.is_submitted() else 200


@bp.route("/ingresar", methods=["GET", "POST"])
@access(PUBLIC)
def login() -> Any:
    # The guessing limits (per address, per account) are counted inside accounts.authenticate, atomically.
    if current_user.is_authenticated:
        return redirect(url_for("core.start"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data, address=get_remote_address())
        except accounts.TooManyAttempts as error:
            return _too_many(error, lambda: render_template("auth/login.html", form=form))
        except accounts.AccountError as error:
            flash(error.message, "error")
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session: nothing from before the login carries over
            if lang:
                session["lang"] = lang
            login_user(user)
            # Where the person has work to do: the start page sends applicants on to their submissions.
            return redirect(safe_next(request.args.get("next")) or url_for("core.start"))
    return render_template("auth/login.html", form=form), INVALID if form.is_submitted() else 200


def _too_many(error: accounts.TooManyAttempts, page: Callable[[], str]) -> Any:
    flash(error.message, "error")
    if error.owner_notified:
        # The refusal's e-mail to the owner (and its audit record) must outlive the 429 answer.
        g.keep_work = True
    return page(), 429, {"Retry-After": str(error.retry_after)}


@bp.route("/salir", methods=["POST"])
@access(LOGGED_IN)
def logout() -> Any:
    form = EmptyForm()
    if form.validate_on_submit():
        accounts.logout(current_user._get_current_object())
        logout_user()
        session.clear()
        flash(_("You have logged out."), "info")
    return redirect(url_for("convocatorias_public.home"))


@bp.route("/olvide-mi-clave", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit("5 per hour", methods=["POST"])
def forgot_password() -> Any:
    form = EmailForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        flash(_("If an account exists for that e-mail, we sent it a link to choose a new password."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), INVALID if form.is_submitted() else 200


@bp.route("/clave/<token>", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit("10 per hour", methods=["POST"])
def reset_password(token: str) -> Any:
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except accounts.AccountError as error:
            _form_error(form, error)
        else:
            flash(_("Your password was saved. Log in with it."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), INVALID if form.is_submitted() else 200


@bp.route("/perfil", methods=["GET", "POST"])
@access(LOGGED_IN)
def profile() -> Any:
    user = current_user._get_current_object()
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        accounts.update_profile(user, name=form.name.data, phone=form.phone.data, locale=form.locale.data)
        if form.locale.data:
            session["lang"] = form.locale.data
        flash(_("Your profile was saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form, user=user), INVALID if form.is_submitted() else 200


@bp.route("/cambiar-clave", methods=["GET", "POST"])
@access(LOGGED_IN)
def change_password() -> Any:
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(user, form.current_password.data, form.password.data)
        except accounts.TooManyAttempts as error:
            return _too_many(error, lambda: render_template("auth/change_password.html", form=form))
        except accounts.AccountError as error:
            _form_error(form, error)
        else:
            # The password change rotated the session token; log in again with a fresh session.
            login_user(user)
            flash(_("Your password was changed."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/change_password.html", form=form), INVALID if form.is_submitted() else 200
