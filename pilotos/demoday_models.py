"""Models of the demo day: one event per region or macro-zone of a call, a four-helix jury whose members
declare conflicts, a pitch rubric scored 1–7, and the final award of each team with its reason."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from convocatorias.models import Convocatoria, _enum
from idea.chile import utcnow
from idea.extensions import db
from idea.models import User, UTCDateTime
from pilotos.models import Equipo


class Helice(enum.StrEnum):
    ESTADO = "estado"
    ACADEMIA = "academia"
    EMPRESA = "empresa"
    SOCIEDAD_CIVIL = "sociedad_civil"


class EstadoDemoDay(enum.StrEnum):
    PREPARACION = "preparacion"
    ABIERTO = "abierto"
    CERRADO = "cerrado"


class DemoDay(db.Model):
    """A demo day for the teams of some regions of a call (one region, or a macro-zone)."""

    __tablename__ = "demo_day"
    __table_args__ = (sa.CheckConstraint("budget >= 0", name="budget_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    regions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # region codes
    place: Mapped[str] = mapped_column(sa.String(300), default="")
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    budget: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # the remaining budget to award
    status: Mapped[EstadoDemoDay] = mapped_column(_enum(EstadoDemoDay, 12), default=EstadoDemoDay.PREPARACION)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    convocatoria: Mapped[Convocatoria] = relationship()
    criterios: Mapped[list[CriterioPitch]] = relationship(
        back_populates="demoday", cascade="all, delete-orphan", order_by="CriterioPitch.position"
    )
    jurados: Mapped[list[JuradoDemoDay]] = relationship(
        back_populates="demoday", cascade="all, delete-orphan", order_by="JuradoDemoDay.id"
    )


class CriterioPitch(db.Model):
    __tablename__ = "criterio_pitch"
    __table_args__ = (sa.CheckConstraint("weight > 0", name="weight_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demoday_id: Mapped[int] = mapped_column(sa.ForeignKey("demo_day.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(200))
    weight: Mapped[int]  # relative weight, e.g. percent

    demoday: Mapped[DemoDay] = relationship(back_populates="criterios")


class JuradoDemoDay(db.Model):
    __tablename__ = "jurado_demo_day"
    __table_args__ = (sa.UniqueConstraint("demoday_id", "user_id", name="uq_jurado_demo_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demoday_id: Mapped[int] = mapped_column(sa.ForeignKey("demo_day.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    helix: Mapped[Helice] = mapped_column(_enum(Helice, 20))
    organization: Mapped[str] = mapped_column(sa.String(200), default="")

    demoday: Mapped[DemoDay] = relationship(back_populates="jurados")
    user: Mapped[User] = relationship()


class ConflictoJurado(db.Model):
    """A juror's declared conflict with a team: the juror is recused from scoring it."""

    __tablename__ = "conflicto_jurado"
    __table_args__ = (sa.UniqueConstraint("jurado_id", "equipo_id", name="uq_conflicto_jurado"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurado_id: Mapped[int] = mapped_column(
        sa.ForeignKey("jurado_demo_day.id", ondelete="CASCADE"), index=True
    )
    equipo_id: Mapped[int] = mapped_column(sa.ForeignKey("equipo.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PuntajePitch(db.Model):
    __tablename__ = "puntaje_pitch"
    __table_args__ = (
        sa.UniqueConstraint("jurado_id", "equipo_id", "criterio_id", name="uq_puntaje_pitch"),
        sa.CheckConstraint("score >= 1 AND score <= 7", name="score_1_to_7"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jurado_id: Mapped[int] = mapped_column(
        sa.ForeignKey("jurado_demo_day.id", ondelete="CASCADE"), index=True
    )
    equipo_id: Mapped[int] = mapped_column(sa.ForeignKey("equipo.id", ondelete="CASCADE"), index=True)
    criterio_id: Mapped[int] = mapped_column(
        sa.ForeignKey("criterio_pitch.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[int]
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ResultadoDemoDay(enum.StrEnum):
    ADJUDICADO = "adjudicado"
    NO_ADJUDICADO = "no_adjudicado"


class AdjudicacionDemoDay(db.Model):
    """The final award of a team at its demo day, with the reason; the award letter's sending is recorded."""

    __tablename__ = "adjudicacion_demo_day"
    __table_args__ = (sa.UniqueConstraint("demoday_id", "equipo_id", name="uq_adjudicacion_demo_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demoday_id: Mapped[int] = mapped_column(sa.ForeignKey("demo_day.id", ondelete="CASCADE"), index=True)
    equipo_id: Mapped[int] = mapped_column(sa.ForeignKey("equipo.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[ResultadoDemoDay] = mapped_column(_enum(ResultadoDemoDay, 20))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    score: Mapped[float | None] = mapped_column(sa.Float)
    rank: Mapped[int | None]
    amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    letter_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    demoday: Mapped[DemoDay] = relationship()
    equipo: Mapped[Equipo] = relationship()
