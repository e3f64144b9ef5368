"""Models of the evaluation phase: the call's rubric and settings, reviewer training, conflicts of interest,
assignments and their per-criterion scores."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from convocatorias.models import Convocatoria, Postulacion, _enum
from idea.chile import utcnow
from idea.extensions import db
from idea.models import User, UTCDateTime


class Rubrica(db.Model):
    """The scoring rubric of one call, with the call's evaluation settings (one row per call).

    Locked once the first evaluation is submitted, so every reviewer scores against the same criteria.
    """

    __tablename__ = "rubrica"
    __table_args__ = (
        sa.CheckConstraint(
            "scale_min >= 0 AND scale_min < scale_max AND scale_max <= 100", name="scale_range"
        ),
        sa.CheckConstraint("reviewers_per_submission >= 1", name="reviewers_positive"),
        sa.CheckConstraint("outlier_threshold >= 0", name="outlier_threshold_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), unique=True
    )
    scale_min: Mapped[int] = mapped_column(default=1)
    scale_max: Mapped[int] = mapped_column(default=7)
    pass_mark: Mapped[float] = mapped_column(sa.Float, default=4.0)
    # Only submissions at or above this final score may be selected (DESIGN: a call setting).
    min_final_score: Mapped[float] = mapped_column(sa.Float, default=4.0)
    guide: Mapped[str] = mapped_column(sa.Text, default="")
    locked: Mapped[bool] = mapped_column(default=False)

    # The calibration example every reviewer scores before their first real evaluation (written by the lead).
    calibration_title: Mapped[str] = mapped_column(sa.String(200), default="")
    calibration_text: Mapped[str] = mapped_column(sa.Text, default="")

    # Call settings of the evaluation phase.
    reviewers_per_submission: Mapped[int] = mapped_column(default=2)
    exclude_own_region: Mapped[bool] = mapped_column(default=False)
    outlier_threshold: Mapped[float] = mapped_column(sa.Float, default=2.0)

    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    convocatoria: Mapped[Convocatoria] = relationship()
    criterios: Mapped[list[Criterio]] = relationship(
        back_populates="rubrica",
        order_by="Criterio.position, Criterio.id",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def levels(self) -> list[int]:
        return list(range(self.scale_min, self.scale_max + 1))

    @property
    def has_calibration(self) -> bool:
        return bool(self.calibration_text.strip()) and all(
            c.reference_score is not None for c in self.criterios
        )


class Criterio(db.Model):
    """A weighted criterion of a rubric, with a description of each level of the scale."""

    __tablename__ = "criterio"
    __table_args__ = (
        sa.UniqueConstraint("rubrica_id", "name", name="uq_criterio_name"),
        sa.CheckConstraint("weight >= 1 AND weight <= 100", name="weight_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rubrica_id: Mapped[int] = mapped_column(sa.ForeignKey("rubrica.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    weight: Mapped[int]
    # {"1": "No se relaciona con el desafío", ..., "7": "..."}: keys are the scale levels as text.
    level_descriptions: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # The lead's score of the calibration example on this criterion.
    reference_score: Mapped[int | None]

    rubrica: Mapped[Rubrica] = relationship(back_populates="criterios")

    def level_description(self, level: int) -> str:
        return str((self.level_descriptions or {}).get(str(level), ""))


class Capacitacion(db.Model):
    """A reviewer's acknowledgement of a call's scoring guide, with their scores of the calibration case."""

    __tablename__ = "capacitacion"
    __table_args__ = (sa.UniqueConstraint("user_id", "convocatoria_id", name="uq_capacitacion_reviewer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # {criterio_id (text): score} as given on the calibration example.
    scores: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    user: Mapped[User] = relationship()


class TipoConflicto(enum.StrEnum):
    ORGANIZACION = "organizacion"
    PERSONA = "persona"
    REGION = "region"
    POSTULACION = "postulacion"


class Conflicto(db.Model):
    """A conflict of interest declared by a reviewer in a call: an organisation (RUT), a person (RUT), a
    region, or one submission."""

    __tablename__ = "conflicto"
    __table_args__ = (
        sa.CheckConstraint("(tipo = 'postulacion') = (postulacion_id IS NOT NULL)", name="target_matches"),
        sa.CheckConstraint("tipo = 'postulacion' OR value IS NOT NULL", name="value_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    tipo: Mapped[TipoConflicto] = mapped_column(_enum(TipoConflicto, 20))
    value: Mapped[str | None] = mapped_column(sa.String(20))  # normalised RUT or region code
    postulacion_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("postulacion.id", ondelete="CASCADE"), index=True
    )
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    postulacion: Mapped[Postulacion | None] = relationship()


class EstadoAsignacion(enum.StrEnum):
    PENDIENTE = "pendiente"  # assigned, nothing saved yet
    BORRADOR = "borrador"  # some scores saved
    ENVIADA = "enviada"  # submitted: locked for the reviewer
    RETIRADA = "retirada"  # removed by the lead or by a conflict; kept so auto-assignment does not re-add it


class Asignacion(db.Model):
    """A reviewer assigned to a submission, and their evaluation of it."""

    __tablename__ = "asignacion"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "postulacion_id", name="uq_asignacion_reviewer"),
        sa.CheckConstraint("status != 'enviada' OR submitted_at IS NOT NULL", name="submitted_has_date"),
        sa.CheckConstraint("released_at IS NULL OR released_reason IS NOT NULL", name="released_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    postulacion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("postulacion.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    status: Mapped[EstadoAsignacion] = mapped_column(
        _enum(EstadoAsignacion, 20), default=EstadoAsignacion.PENDIENTE, index=True
    )
    overall_comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopened_reason: Mapped[str | None] = mapped_column(sa.Text)
    # The lead may let the call leave `evaluacion` without this evaluation, saying why.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_reason: Mapped[str | None] = mapped_column(sa.Text)

    postulacion: Mapped[Postulacion] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    # Loaded on access (one evaluation) or by one explicit query (the dashboard), never in IN-batches.
    puntajes: Mapped[list[Puntaje]] = relationship(back_populates="asignacion", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:
        return self.status != EstadoAsignacion.RETIRADA

    @property
    def is_submitted(self) -> bool:
        return self.status == EstadoAsignacion.ENVIADA


class Puntaje(db.Model):
    """One reviewer's score and comment on one criterion of one submission (through the assignment)."""

    __tablename__ = "puntaje"
    __table_args__ = (sa.UniqueConstraint("asignacion_id", "criterio_id", name="uq_puntaje_criterio"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asignacion_id: Mapped[int] = mapped_column(sa.ForeignKey("asignacion.id", ondelete="CASCADE"), index=True)
    criterio_id: Mapped[int] = mapped_column(sa.ForeignKey("criterio.id", ondelete="CASCADE"), index=True)
    value: Mapped[int | None]
    comment: Mapped[str] = mapped_column(sa.Text, default="")

    asignacion: Mapped[Asignacion] = relationship(back_populates="puntajes")


class RecordatorioEvaluacion(db.Model):
    """A scoring-deadline reminder sent to a reviewer; the unique key makes a rerun send nothing twice."""

    __tablename__ = "recordatorio_evaluacion"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "convocatoria_id", "kind", name="uq_recordatorio_evaluacion_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(10))  # "72h" or "24h"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
