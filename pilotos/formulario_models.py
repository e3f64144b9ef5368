"""Models of the full form (formulario completo) a team fills in after its required training modules:
theory of change, budget lines, indicators, activity plan and risks, with its review history."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from convocatorias.models import _enum
from idea.chile import utcnow
from idea.extensions import db
from idea.models import User, UTCDateTime
from pilotos.models import Equipo


class EstadoFormulario(enum.StrEnum):
    BORRADOR = "borrador"
    ENVIADO = "enviado"
    CON_OBSERVACIONES = "con_observaciones"
    ACEPTADO = "aceptado"


class FormularioCompleto(db.Model):
    """One team's full form. The repeatable rows are stored as JSON lists, always written whole after
    one validation (pilotos.formulario.check), so a refused save leaves nothing half-written."""

    __tablename__ = "formulario_completo"

    id: Mapped[int] = mapped_column(primary_key=True)
    equipo_id: Mapped[int] = mapped_column(sa.ForeignKey("equipo.id", ondelete="CASCADE"), unique=True)
    status: Mapped[EstadoFormulario] = mapped_column(
        _enum(EstadoFormulario, 20),
        default=EstadoFormulario.BORRADOR,
    )
    problem: Mapped[str] = mapped_column(sa.Text, default="")
    activities: Mapped[str] = mapped_column(sa.Text, default="")
    outputs: Mapped[str] = mapped_column(sa.Text, default="")
    outcomes: Mapped[str] = mapped_column(sa.Text, default="")
    impact: Mapped[str] = mapped_column(sa.Text, default="")
    # [{"item", "category", "amount"}], [{"name", "unit", "baseline", "target"}] (numbers as strings),
    # [{"description", "starts_on", "ends_on"}] (ISO dates), [{"risk", "mitigation"}]
    presupuesto: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    indicadores: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    actividades: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    riesgos: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    equipo: Mapped[Equipo] = relationship()
    historial: Mapped[list[RevisionFormulario]] = relationship(
        back_populates="formulario", cascade="all, delete-orphan", order_by="RevisionFormulario.id"
    )


class AccionRevision(enum.StrEnum):
    ENVIADO = "enviado"
    OBSERVADO = "observado"
    ACEPTADO = "aceptado"


class RevisionFormulario(db.Model):
    """One step of the form's history: sent by the team (with a copy of what was sent), sent back with the
    lead's comment, or accepted."""

    __tablename__ = "revision_formulario"

    id: Mapped[int] = mapped_column(primary_key=True)
    formulario_id: Mapped[int] = mapped_column(
        sa.ForeignKey("formulario_completo.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[AccionRevision] = mapped_column(_enum(AccionRevision, 20))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    formulario: Mapped[FormularioCompleto] = relationship(back_populates="historial")
    actor: Mapped[User | None] = relationship()
