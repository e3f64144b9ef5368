"""Core models: users, their roles (optionally bound to a call and/or a region) and the audit log."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idea.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(enum.StrEnum):
    """The roles of the platform; every staff role may be scoped to a call and/or a region."""

    ADMIN = "admin"
    ENCARGADO_TECNICO = "encargado_tecnico"
    EVALUADOR = "evaluador"
    COMITE = "comite"
    MENTOR = "mentor"
    JURADO = "jurado"
    POSTULANTE = "postulante"


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always read back as an aware datetime (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; convert to UTC first")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class User(UserMixin, db.Model):
    """A person with an account: applicant, staff member or both."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_active_account: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    # Rotated on logout and password change so that an old session cookie stops working.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        lazy="selectin",
        foreign_keys="RoleAssignment.user_id",
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def rotate_session(self) -> None:
        """Invalidate every session cookie issued so far for this user."""
        self.session_token = secrets.token_hex(16)

    def has_role(
        self, role: Role | str, *, convocatoria_id: int | None = None, region: str | None = None
    ) -> bool:
        """Whether the user holds `role`, in scope for the given call and region when they are given.

        An assignment without a call (or region) applies to every call (or region); admin holds every role.
        """
        for assignment in self.roles:
            if assignment.role not in (Role(role), Role.ADMIN):
                continue
            if convocatoria_id is not None and assignment.convocatoria_id not in (None, convocatoria_id):
                continue
            if region is not None and assignment.region not in (None, region):
                continue
            return True
        return False

    def has_any_role(self, *roles: Role | str) -> bool:
        return any(self.has_role(role) for role in roles)

    @property
    def is_admin(self) -> bool:
        return any(a.role == Role.ADMIN for a in self.roles)

    @property
    def is_staff(self) -> bool:
        """Whether the user holds any role of the fund's team (anything but applicant)."""
        return any(a.role != Role.POSTULANTE for a in self.roles)

    @property
    def is_applicant(self) -> bool:
        """Whether the user applies: registered as applicant, or an account without roles."""
        return not self.roles or any(a.role == Role.POSTULANTE for a in self.roles)

    @property
    def role_names(self) -> set[Role]:
        return {a.role for a in self.roles}


class RoleAssignment(db.Model):
    """One role held by one user, optionally bound to one call and/or one region."""

    __tablename__ = "role_assignment"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "role", "convocatoria_id", "region", name="uq_role_assignment_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(
        sa.Enum(
            Role,
            native_enum=False,
            length=30,
            validate_strings=True,
            values_callable=lambda roles: [r.value for r in roles],
        )
    )
    # A plain id, not a foreign key: the core must not depend on the convocatorias package's tables.
    convocatoria_id: Mapped[int | None] = mapped_column(index=True)
    region: Mapped[str | None] = mapped_column(sa.String(2))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(back_populates="roles", foreign_keys=[user_id])


class EventoAuditoria(db.Model):
    """Who did what to which object, when, with the values before and after."""

    __tablename__ = "evento_auditoria"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(80), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(80), index=True)
    object_id: Mapped[str | None] = mapped_column(sa.String(80))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))

    actor: Mapped[User | None] = relationship(lazy="joined")


def _job_key() -> str:
    return secrets.token_hex(16)


class OutboxJob(db.Model):
    """A background job written in the same transaction as the change that asked for it (an outbox).

    A committed change therefore always has its job, even when Redis is down at that moment: the
    dispatcher hands waiting rows to RQ later. `key` is the RQ job id, so handing a row over twice makes
    one RQ job; `done_at` is set in the job's own transaction, so a job that does run twice acts once.
    """

    __tablename__ = "outbox_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(32), unique=True, default=_job_key)
    func: Mapped[str] = mapped_column(sa.String(200))
    args: Mapped[list[Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when handed to RQ (or run inline); rows still without it are what the dispatcher looks for.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
