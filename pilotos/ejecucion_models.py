"""Models of the execution phase (ejecución): each awarded team's pilot with its frozen plan, its milestones,
and its report calendar, one row per period (the final report is the last row), each with its review
history. The call's settings say how often a pilot reports and what breakdowns a report asks for."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from convocatorias.models import Convocatoria, _enum
from idea.chile import utcnow
from idea.extensions import db
from idea.models import User, UTCDateTime
from pilotos.formulario_models import FormularioCompleto
from pilotos.models import Equipo


class ConfiguracionEjecucion(db.Model):
    """A call's execution settings: the report calendar and the beneficiary breakdowns a report asks for."""

    __tablename__ = "configuracion_ejecucion"
    __table_args__ = (
        sa.CheckConstraint(
            "report_every_months >= 1 AND report_every_months <= 12", name="report_every_range"
        ),
        sa.CheckConstraint("duration_months >= 1 AND duration_months <= 36", name="duration_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), unique=True
    )
    report_every_months: Mapped[int] = mapped_column(default=1)
    duration_months: Mapped[int] = mapped_column(default=6)
    # Days after a period's end before its report is due.
    grace_days: Mapped[int] = mapped_column(default=10)
    ask_sex_breakdown: Mapped[bool] = mapped_column(default=True)
    ask_region_breakdown: Mapped[bool] = mapped_column(default=False)

    convocatoria: Mapped[Convocatoria] = relationship()


class EstadoPiloto(enum.StrEnum):
    EN_EJECUCION = "en_ejecucion"
    CERRADO = "cerrado"


class Piloto(db.Model):
    """An awarded team's pilot. `plan` is a copy of the accepted full form's budget lines, indicators and
    activities taken when the pilot starts, so later edits elsewhere never move the baseline."""

    __tablename__ = "piloto"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.CheckConstraint(
            "beneficiaries_planned IS NULL OR beneficiaries_planned >= 0", name="planned_not_negative"
        ),
        sa.CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    equipo_id: Mapped[int] = mapped_column(sa.ForeignKey("equipo.id", ondelete="CASCADE"), unique=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    formulario_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("formulario_completo.id", ondelete="SET NULL")
    )
    # Copied from the team: the region scopes the lead and the portfolio.
    region: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    amount: Mapped[int] = mapped_column(sa.BigInteger)  # awarded, integer pesos
    beneficiaries_planned: Mapped[int | None]
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    # The full form's rows as accepted: {"presupuesto": [{"item", "category", "amount"}],
    # "indicadores": [{"name", "unit", "baseline", "target"}], "actividades": [{"description", "starts_on",
    # "ends_on"}]}.
    plan: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[EstadoPiloto] = mapped_column(_enum(EstadoPiloto, 20), default=EstadoPiloto.EN_EJECUCION)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    equipo: Mapped[Equipo] = relationship()
    convocatoria: Mapped[Convocatoria] = relationship()
    formulario: Mapped[FormularioCompleto | None] = relationship()
    hitos: Mapped[list[HitoPiloto]] = relationship(
        back_populates="piloto", cascade="all, delete-orphan", order_by="(HitoPiloto.due_on, HitoPiloto.id)"
    )
    reportes: Mapped[list[ReportePiloto]] = relationship(
        back_populates="piloto", cascade="all, delete-orphan", order_by="ReportePiloto.number"
    )


class HitoPiloto(db.Model):
    """A milestone of a pilot with its date; done when the team or the lead marks it."""

    __tablename__ = "hito_piloto"

    id: Mapped[int] = mapped_column(primary_key=True)
    piloto_id: Mapped[int] = mapped_column(sa.ForeignKey("piloto.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    due_on: Mapped[date] = mapped_column(sa.Date)
    done_on: Mapped[date | None] = mapped_column(sa.Date)

    piloto: Mapped[Piloto] = relationship(back_populates="hitos")


class TipoReporte(enum.StrEnum):
    AVANCE = "avance"
    FINAL = "final"


class EstadoReporte(enum.StrEnum):
    PENDIENTE = "pendiente"  # not sent yet (a draft may be saved)
    ENVIADO = "enviado"
    CON_OBSERVACIONES = "con_observaciones"
    APROBADO = "aprobado"


class ReportePiloto(db.Model):
    """One report of a pilot's calendar: a progress report per period, and the final report last.

    `data` is written whole after one validation (like the full form), with this shape:
    {"indicadores": [{"name", "actual"}] (actual as a string number or ""),
     "beneficiarios": {"total": int, "mujeres": int, "hombres": int, "otro": int, "por_region": {code: int}}
       (beneficiaries newly reached in the period),
     "gastos": [{"item", "executed"}] (integer pesos executed in the period, one per plan budget line),
     "actividades": [{"description", "done": bool, "note"}],
     "aprendizajes": {"worked", "failed", "surprised"}}
    """

    __tablename__ = "reporte_piloto"
    __table_args__ = (
        sa.UniqueConstraint("piloto_id", "number", name="uq_reporte_piloto_number"),
        sa.CheckConstraint("period_end >= period_start", name="period_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    piloto_id: Mapped[int] = mapped_column(sa.ForeignKey("piloto.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # 1, 2, ... in calendar order
    kind: Mapped[TipoReporte] = mapped_column(_enum(TipoReporte, 12), default=TipoReporte.AVANCE)
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    due_on: Mapped[date] = mapped_column(sa.Date, index=True)
    status: Mapped[EstadoReporte] = mapped_column(_enum(EstadoReporte, 20), default=EstadoReporte.PENDIENTE)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last late-report reminder sent, so a daily job reminds at most once per interval.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    piloto: Mapped[Piloto] = relationship(back_populates="reportes")
    historial: Mapped[list[RevisionReporte]] = relationship(
        back_populates="reporte", cascade="all, delete-orphan", order_by="RevisionReporte.id"
    )


class AccionReporte(enum.StrEnum):
    ENVIADO = "enviado"
    OBSERVADO = "observado"
    APROBADO = "aprobado"


class RevisionReporte(db.Model):
    """One step of a report's history: sent by the team (with a copy of what was sent), sent back with the
    lead's comment, or approved."""

    __tablename__ = "revision_reporte"

    id: Mapped[int] = mapped_column(primary_key=True)
    reporte_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reporte_piloto.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[AccionReporte] = mapped_column(_enum(AccionReporte, 20))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    reporte: Mapped[ReportePiloto] = relationship(back_populates="historial")
    actor: Mapped[User | None] = relationship()


class EvidenciaReporte(db.Model):
    """An evidence file (PDF, PNG or JPEG) of a report, stored like a submission's attachments
    (convocatorias.uploads): outside the web root under a random name, its type sniffed and its size capped;
    only the pilot's team and its leads may download it."""

    __tablename__ = "evidencia_reporte"

    id: Mapped[int] = mapped_column(primary_key=True)
    reporte_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reporte_piloto.id", ondelete="CASCADE"), index=True
    )
    original_name: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(50))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    reporte: Mapped[ReportePiloto] = relationship()
