"""Account operations: registration, confirmation, log-in, passwords, profile, staff invitations, roles.

Operations take the actor explicitly, never commit, and queue their e-mails (sent after the commit).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from idea import audit, login_limits
from idea.extensions import db
from idea.mail import external_url, send_email_to
from idea.models import Role, RoleAssignment, User, utcnow
from idea.passwords import hash_password, needs_rehash, password_problems, verify_password


class AccountError(ValueError):
    """A refusal with a message meant for the user."""

    def __init__(self, message: str, field: str | None = None, *, messages: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.messages = messages or [message]
        self.field = field


def _check_password(password: str, user_inputs: list[str]) -> None:
    problems = password_problems(password, user_inputs=user_inputs)
    if problems:
        raise AccountError(problems[0], field="password", messages=problems)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


# --- signed links -----------------------------------------------------------------------------------


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def make_confirm_token(user: User) -> str:
    return _serializer("confirm-email").dumps({"id": user.id, "email": user.email})


def _password_fingerprint(user: User) -> str:
    # Binding a set-password token to the current hash makes it single-use: once the password changes, it
    # is void.
    return (user.password_hash or "")[-16:]


def make_password_token(user: User, purpose: str = "reset") -> str:
    """A set-password link token; `purpose` is "reset" (short-lived) or "invite" (a week)."""
    return _serializer("set-password").dumps({"id": user.id, "h": _password_fingerprint(user), "p": purpose})


def _load_token(salt: str, token: str, max_age: int | None = None) -> dict[str, Any]:
    try:
        data, issued_at = _serializer(salt).loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired as exc:
        raise AccountError(_("This link has expired. Ask for a new one.")) from exc
    except BadSignature as exc:
        raise AccountError(_("This link is not valid.")) from exc
    if not isinstance(data, dict):
        raise AccountError(_("This link is not valid."))
    data["_issued_at"] = issued_at
    return data


# --- registration and confirmation -------------------------------------------------------------------


def register_user(email: str, name: str, password: str) -> User | None:
    """Create an applicant account and send the confirmation link.

    When the e-mail is already registered nothing is created and its owner is told by e-mail instead, so
    the answer on screen is the same for known and unknown addresses.
    """
    email = normalize_email(email)
    _check_password(password, [email, name])
    # Hashed before looking the address up: both answers then cost the same, and time reveals nothing.
    password_hash = hash_password(password)
    existing = find_user_by_email(email)
    if existing is not None:
        send_email_to(
            existing,
            _l("Someone tried to register with your e-mail"),
            "account_exists",
            login_url=external_url("auth.login"),
            reset_url=external_url("auth.forgot_password"),
        )
        return None
    user = User(email=email, name=name.strip(), password_hash=password_hash)
    user.roles.append(RoleAssignment(role=Role.POSTULANTE))
    db.session.add(user)
    db.session.flush()
    audit.record(user, "user.registered", user, after={"email": user.email})
    send_confirmation(user)
    return user


def send_confirmation(user: User) -> None:
    link = external_url("auth.confirm_email", token=make_confirm_token(user))
    send_email_to(user, _l("Confirm your e-mail for Fondo IDEA"), "confirm_email", link=link)


def _load_confirm_token(token: str) -> dict[str, Any]:
    return _load_token("confirm-email", token, current_app.config["CONFIRM_TOKEN_MAX_AGE"])


def check_confirm_token(token: str) -> None:
    """Raise AccountError when a confirmation link is forged or expired (changes nothing)."""
    _load_confirm_token(token)


def confirm_email(token: str) -> User:
    data = _load_confirm_token(token)
    user = db.session.get(User, data.get("id"))
    if user is None or user.email != data.get("email"):
        raise AccountError(_("This link is not valid."))
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        audit.record(user, "user.email_confirmed", user)
    return user


# --- log in and out ---------------------------------------------------------------------------------


def authenticate(email: str, password: str, *, address: str) -> User:
    """The user with these credentials, or AccountError with one message whatever was wrong.

    `address` is the client's address, for the guessing limits (`idea.login_limits`); over a limit it
    raises TooManyAttempts without checking the password. Known and unknown e-mails take the same work
    (a hash is always verified, a dummy one for an unknown account), so the answer time reveals nothing.
    """
    try:
        attempt = login_limits.start_login(email, address)
    except login_limits.TooManyAttempts as refusal:
        raise _refusal(refusal, find_user_by_email(email)) from refusal
    user = find_user_by_email(email)
    valid = verify_password(user.password_hash if user is not None else None, password)
    if user is None or not valid or not user.is_active:
        if user is not None:
            audit.record(None, "user.login_failed", user)
        raise AccountError(_("Wrong e-mail or password."))
    attempt.succeeded()
    if not user.is_confirmed:
        raise AccountError(
            _("Confirm your e-mail first: we sent you a link. You can ask for a new one below.")
        )
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record(user, "user.login", user)
    return user


class TooManyAttempts(AccountError):
    """Refused before checking the password; `owner_notified` when this refusal e-mailed the owner."""

    def __init__(self, message: str, *, retry_after: int, owner_notified: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.owner_notified = owner_notified


def _refusal(refusal: login_limits.TooManyAttempts, user: User | None) -> TooManyAttempts:
    minutes = max(1, -(-refusal.retry_after // 60))
    if refusal.scope == "address":
        return TooManyAttempts(
            ngettext(
                "Too many attempts from your connection. Wait %(num)d minute and try again.",
                "Too many attempts from your connection. Wait %(num)d minutes and try again.",
                minutes,
            ),
            retry_after=refusal.retry_after,
        )
    notify = bool(refusal.lock_started and user is not None and user.is_active)
    if user is not None and notify:
        send_email_to(
            user,
            _l("Your Fondo IDEA account was locked for a few minutes"),
            "account_locked",
            minutes=minutes,
            reset_url=external_url("auth.forgot_password"),
        )
        audit.record(None, "user.login_locked", user)
    return TooManyAttempts(
        ngettext(
            "Too many failed attempts for this account. Wait %(num)d minute, or choose a new password "
            "with the link “Forgot your password?”.",
            "Too many failed attempts for this account. Wait %(num)d minutes, or choose a new password "
            "with the link “Forgot your password?”.",
            minutes,
        ),
        retry_after=refusal.retry_after,
        owner_notified=notify,
    )


def logout(user: User) -> None:
    user.rotate_session()
    audit.record(user, "user.logout", user)


# --- passwords -------------------------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Send a reset link when the account exists; the caller says the same thing either way."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    link = external_url("auth.reset_password", token=make_password_token(user))
    send_email_to(user, _l("Reset your Fondo IDEA password"), "reset_password", link=link)


def reset_password(token: str, password: str) -> User:
    """Set a new password from an e-mailed link (a reset or an invitation)."""
    data = _load_token("set-password", token)
    limit = current_app.config["INVITE_TOKEN_MAX_AGE" if data.get("p") == "invite" else "RESET_TOKEN_MAX_AGE"]
    if (utcnow() - data["_issued_at"]).total_seconds() > limit:
        raise AccountError(_("This link has expired. Ask for a new one."))
    user = db.session.get(User, data.get("id"))
    if user is None or _password_fingerprint(user) != data.get("h"):
        raise AccountError(_("This link is not valid or was already used."))
    _set_password(user, password)
    login_limits.lift_lock(user.email)
    # Following a link from the inbox proves the address.
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    audit.record(user, "user.password_set", user)
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one (a few wrong ones, then TooManyAttempts)."""
    try:
        attempt = login_limits.start_password_check(user.id)
    except login_limits.TooManyAttempts as refusal:
        minutes = max(1, -(-refusal.retry_after // 60))
        raise TooManyAttempts(
            ngettext(
                "Too many wrong passwords. Wait %(num)d minute and try again.",
                "Too many wrong passwords. Wait %(num)d minutes and try again.",
                minutes,
            ),
            retry_after=refusal.retry_after,
        ) from refusal
    if not verify_password(user.password_hash, current):
        raise AccountError(_("The current password is not correct."), field="current_password")
    attempt.succeeded()
    _set_password(user, new)
    audit.record(user, "user.password_changed", user)


def _set_password(user: User, password: str) -> None:
    _check_password(password, [user.email, user.name])
    user.password_hash = hash_password(password)
    user.rotate_session()


def update_profile(user: User, *, name: str, phone: str | None, locale: str | None) -> None:
    fields = ("name", "phone", "locale")
    before = audit.snapshot(user, fields)
    user.name = name.strip()
    user.phone = (phone or "").strip() or None
    user.locale = locale or None
    after = audit.snapshot(user, fields)
    if before != after:
        audit.record(user, "user.profile_updated", user, before=before, after=after)


# --- staff: invitations and roles ------------------------------------------------------------------


def invite_staff(
    actor: User, *, email: str, name: str, role: Role, convocatoria_id: int | None, region: str | None
) -> User:
    """Create (or reuse) an account for a staff member, grant the role and e-mail a set-password link."""
    user = find_user_by_email(email)
    created = user is None
    if user is None:
        user = User(email=normalize_email(email), name=name.strip())
        db.session.add(user)
        db.session.flush()
        audit.record(actor, "user.invited", user, after={"email": user.email})
    grant_role(actor, user, role, convocatoria_id=convocatoria_id, region=region)
    if created:
        link = external_url("auth.reset_password", token=make_password_token(user, "invite"))
        send_email_to(
            user, _l("You have been invited to Fondo IDEA"), "invitation", link=link, role=role, inviter=actor
        )
    else:
        send_email_to(
            user,
            _l("You have a new role in Fondo IDEA"),
            "role_granted",
            role=role,
            login_url=external_url("auth.login"),
        )
    return user


def _role_scope(assignment: RoleAssignment) -> dict[str, Any]:
    """What the audit log keeps of a granted or revoked role."""
    return {
        "role": assignment.role,
        "convocatoria_id": assignment.convocatoria_id,
        "region": assignment.region,
    }


def grant_role(
    actor: User, user: User, role: Role, *, convocatoria_id: int | None = None, region: str | None = None
) -> RoleAssignment:
    if role in (Role.ADMIN, Role.POSTULANTE) and (convocatoria_id is not None or region is not None):
        # An admin manages every call and region; anyone may apply anywhere. Only staff roles are scoped.
        raise AccountError(_("This role cannot be bound to a call or a region."), field="role")
    for existing in user.roles:
        if (existing.role, existing.convocatoria_id, existing.region) == (role, convocatoria_id, region):
            raise AccountError(_("The user already has that role."), field="role")
    assignment = RoleAssignment(
        role=role, convocatoria_id=convocatoria_id, region=region, granted_by_id=actor.id
    )
    user.roles.append(assignment)
    db.session.flush()
    audit.record(actor, "role.granted", user, after=_role_scope(assignment))
    return assignment


def revoke_role(actor: User, assignment: RoleAssignment) -> None:
    user = assignment.user
    if assignment.role == Role.ADMIN and user.id == actor.id:
        raise AccountError(_("You cannot remove your own administrator role."))
    before = _role_scope(assignment)
    user.roles.remove(assignment)
    db.session.flush()
    audit.record(actor, "role.revoked", user, before=before)
