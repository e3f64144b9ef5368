"""Models of the mentoring of the training phase: the mentor directory, conflicts mentors declare, the
mentoring of a team (8 weekly slots from its start date), the sessions a mentor logs, the team's comments
on each session and the reminders sent for weeks without a session."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idea.chile import utcnow
from idea.extensions import db
from idea.models import User, UTCDateTime
from pilotos.models import Equipo


class TipoOrganizacionMentor(enum.StrEnum):
    UNIVERSIDAD = "universidad"
    EMPRESA = "empresa"
    ORGANISMO_PUBLICO = "organismo_publico"
    SOCIEDAD_CIVIL = "sociedad_civil"  # pro bono, foundations, civil society


class EstadoMentoria(enum.StrEnum):
    ACTIVA = "activa"
    FINALIZADA = "finalizada"


def _enum(cls: type[enum.StrEnum]) -> sa.Enum:
    return sa.Enum(
        cls,
        native_enum=False,
        length=30,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
    )


class Mentor(db.Model):
    """A person in the mentor directory (a user holding the mentor role)."""

    __tablename__ = "mentor"
    __table_args__ = (
        sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
        # The database itself refuses a mentoring beyond the mentor's capacity.
        sa.CheckConstraint("active_count >= 0 AND active_count <= capacity", name="within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    organization: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[TipoOrganizacionMentor] = mapped_column(_enum(TipoOrganizacionMentor))
    # Tags: slugs of the fixed catalogue (pilotos.mentoria_rules.TAGS) and free tags in lower case.
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    region: Mapped[str | None] = mapped_column(sa.String(2), index=True)  # None: any region
    capacity: Mapped[int] = mapped_column(default=2)
    active_count: Mapped[int] = mapped_column(default=0)
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()
    conflictos: Mapped[list[ConflictoMentor]] = relationship(
        back_populates="mentor", cascade="all, delete-orphan", order_by="ConflictoMentor.id"
    )

    @property
    def name(self) -> str:
        return self.user.name


class ConflictoMentor(db.Model):
    """A conflict a mentor declared: with an organisation (by RUT) or with one team."""

    __tablename__ = "conflicto_mentor"
    __table_args__ = (sa.CheckConstraint("rut IS NOT NULL OR equipo_id IS NOT NULL", name="target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("mentor.id", ondelete="CASCADE"), index=True)
    rut: Mapped[str | None] = mapped_column(sa.String(12))  # canonical "12345678-5"
    equipo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("equipo.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    mentor: Mapped[Mentor] = relationship(back_populates="conflictos")
    equipo: Mapped[Equipo | None] = relationship()


class Mentoria(db.Model):
    """A mentor assigned to a team by the lead, for eight weeks from `start_date` (a Chilean date)."""

    __tablename__ = "mentoria"
    __table_args__ = (sa.UniqueConstraint("equipo_id", "mentor_id", name="uq_mentoria_equipo_mentor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    equipo_id: Mapped[int] = mapped_column(sa.ForeignKey("equipo.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("mentor.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[EstadoMentoria] = mapped_column(_enum(EstadoMentoria), default=EstadoMentoria.ACTIVA)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    equipo: Mapped[Equipo] = relationship()
    mentor: Mapped[Mentor] = relationship()
    sesiones: Mapped[list[SesionMentoria]] = relationship(
        back_populates="mentoria",
        cascade="all, delete-orphan",
        order_by="(SesionMentoria.held_on, SesionMentoria.id)",
    )


class SesionMentoria(db.Model):
    """A session the mentor logged."""

    __tablename__ = "sesion_mentoria"
    __table_args__ = (
        sa.CheckConstraint("duration_minutes >= 1 AND duration_minutes <= 600", name="duration"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mentoria_id: Mapped[int] = mapped_column(sa.ForeignKey("mentoria.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(sa.Date)
    duration_minutes: Mapped[int]
    topics: Mapped[str] = mapped_column(sa.Text)
    agreements: Mapped[str] = mapped_column(sa.Text, default="")
    next_steps: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    mentoria: Mapped[Mentoria] = relationship(back_populates="sesiones")
    comentarios: Mapped[list[ComentarioSesion]] = relationship(
        back_populates="sesion", cascade="all, delete-orphan", order_by="ComentarioSesion.id"
    )


class ComentarioSesion(db.Model):
    """A comment of a team member (or the mentor) on a session."""

    __tablename__ = "comentario_sesion"

    id: Mapped[int] = mapped_column(primary_key=True)
    sesion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sesion_mentoria.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sesion: Mapped[SesionMentoria] = relationship(back_populates="comentarios")
    user: Mapped[User | None] = relationship()


class RecordatorioMentoria(db.Model):
    """The reminder sent to the mentor for one week without a session (unique: sent once per week)."""

    __tablename__ = "recordatorio_mentoria"
    __table_args__ = (sa.UniqueConstraint("mentoria_id", "week", name="uq_recordatorio_mentoria"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mentoria_id: Mapped[int] = mapped_column(sa.ForeignKey("mentoria.id", ondelete="CASCADE"), index=True)
    week: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


__all__: list[Any] = [
    "ComentarioSesion",
    "ConflictoMentor",
    "EstadoMentoria",
    "Mentor",
    "Mentoria",
    "RecordatorioMentoria",
    "SesionMentoria",
    "TipoOrganizacionMentor",
]
