"""Models of the training phase (formación): teams of selected submissions, their members and invitations,
regional workshops with registrations and attendance, and training modules with a checklist per team."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from convocatorias.models import Convocatoria, Postulacion
from idea.chile import utcnow
from idea.extensions import db
from idea.models import User, UTCDateTime


class Equipo(db.Model):
    """The team of one submission selected by the committee, in training."""

    __tablename__ = "equipo"

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    postulacion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("postulacion.id", ondelete="CASCADE"), unique=True
    )
    # Copied from the submission: the region scopes the lead and the workshops.
    region: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    convocatoria: Mapped[Convocatoria] = relationship()
    postulacion: Mapped[Postulacion] = relationship()
    miembros: Mapped[list[MiembroEquipo]] = relationship(
        back_populates="equipo", cascade="all, delete-orphan", order_by="MiembroEquipo.id"
    )


class MiembroEquipo(db.Model):
    __tablename__ = "miembro_equipo"
    __table_args__ = (sa.UniqueConstraint("equipo_id", "user_id", name="uq_miembro_equipo"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    equipo_id: Mapped[int] = mapped_column(sa.ForeignKey("equipo.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    equipo: Mapped[Equipo] = relationship(back_populates="miembros")
    user: Mapped[User] = relationship()


class InvitacionEquipo(db.Model):
    """An e-mailed invitation to join a team: the link's token is stored hashed, used once."""

    __tablename__ = "invitacion_equipo"

    id: Mapped[int] = mapped_column(primary_key=True)
    equipo_id: Mapped[int] = mapped_column(sa.ForeignKey("equipo.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    equipo: Mapped[Equipo] = relationship()


class Taller(db.Model):
    """A workshop of a call, for the teams of one region (or of every region when `region` is empty)."""

    __tablename__ = "taller"
    __table_args__ = (
        sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
        # The database itself refuses a registration beyond the capacity.
        sa.CheckConstraint("registered_count >= 0 AND registered_count <= capacity", name="within_capacity"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    region: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    topic: Mapped[str] = mapped_column(sa.Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(sa.String(300), default="")
    online_url: Mapped[str] = mapped_column(sa.String(500), default="")
    capacity: Mapped[int]
    registered_count: Mapped[int] = mapped_column(default=0)
    attendance_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    convocatoria: Mapped[Convocatoria] = relationship()


class InscripcionTaller(db.Model):
    __tablename__ = "inscripcion_taller"
    __table_args__ = (sa.UniqueConstraint("taller_id", "equipo_id", name="uq_inscripcion_taller"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    taller_id: Mapped[int] = mapped_column(sa.ForeignKey("taller.id", ondelete="CASCADE"), index=True)
    equipo_id: Mapped[int] = mapped_column(sa.ForeignKey("equipo.id", ondelete="CASCADE"), index=True)
    attended: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    taller: Mapped[Taller] = relationship()
    equipo: Mapped[Equipo] = relationship()


class RecordatorioTaller(db.Model):
    """The reminder of a workshop sent to one person (a unique key: a rerun sends nothing twice)."""

    __tablename__ = "recordatorio_taller"
    __table_args__ = (sa.UniqueConstraint("taller_id", "user_id", name="uq_recordatorio_taller"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    taller_id: Mapped[int] = mapped_column(sa.ForeignKey("taller.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Modulo(db.Model):
    """A training module: a Markdown page written by the admin, with a short checklist."""

    __tablename__ = "modulo"

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown, sanitised when rendered
    required: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    items: Mapped[list[ItemModulo]] = relationship(
        back_populates="modulo", cascade="all, delete-orphan", order_by="ItemModulo.position"
    )


class ItemModulo(db.Model):
    __tablename__ = "item_modulo"

    id: Mapped[int] = mapped_column(primary_key=True)
    modulo_id: Mapped[int] = mapped_column(sa.ForeignKey("modulo.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(sa.String(300))

    modulo: Mapped[Modulo] = relationship(back_populates="items")


class AvanceModulo(db.Model):
    """A checklist item a team marked done."""

    __tablename__ = "avance_modulo"
    __table_args__ = (sa.UniqueConstraint("equipo_id", "item_id", name="uq_avance_modulo"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    equipo_id: Mapped[int] = mapped_column(sa.ForeignKey("equipo.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("item_modulo.id", ondelete="CASCADE"), index=True)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
