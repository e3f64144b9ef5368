"""Models of the committee phase: the call's selection rules, committee sessions with the members present,
the solver runs, and one decision per submission with its reason.

A session is the unit of the acta: open while the committee works, then closed, which locks it (its
decisions and runs can no longer change). A later session (waitlist promotion) starts from the closed
decisions of earlier ones.
"""

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


class Objetivo(enum.StrEnum):
    RANK = "rank"  # rank order (lexicographic)
    TOTAL = "total"  # most total score (knapsack)


class ReglasSeleccion(db.Model):
    """The selection rules of one call (one row per call). The budget is the call's `total_budget`, the
    minimum final score the rubric's `min_final_score`, the vote weight the call's `vote_weight`."""

    __tablename__ = "reglas_seleccion"
    __table_args__ = (
        sa.CheckConstraint("max_per_challenge IS NULL OR max_per_challenge >= 1", name="cap_positive"),
        sa.CheckConstraint("max_count IS NULL OR max_count >= 1", name="count_positive"),
        sa.CheckConstraint("quorum >= 1", name="quorum_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), unique=True
    )
    objective: Mapped[Objetivo] = mapped_column(_enum(Objetivo, 10), default=Objetivo.RANK)
    max_per_challenge: Mapped[int | None]
    max_count: Mapped[int | None]
    quorum: Mapped[int] = mapped_column(default=2)  # members present needed to decide
    # Whether applicants get their reviewers' per-criterion scores and comments (anonymous) with the outcome.
    share_feedback: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    convocatoria: Mapped[Convocatoria] = relationship()


class EstadoSesion(enum.StrEnum):
    ABIERTA = "abierta"
    CERRADA = "cerrada"


class SesionComite(db.Model):
    """A committee session of one call."""

    __tablename__ = "sesion_comite"
    __table_args__ = (
        sa.CheckConstraint("status != 'cerrada' OR closed_at IS NOT NULL", name="closed_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(default=1)  # 1st, 2nd... session of the call
    status: Mapped[EstadoSesion] = mapped_column(
        _enum(EstadoSesion, 10), default=EstadoSesion.ABIERTA, index=True
    )
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    # Published results (public page, applicant e-mails) come from a closed session.
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    convocatoria: Mapped[Convocatoria] = relationship()
    asistentes: Mapped[list[AsistenteSesion]] = relationship(
        back_populates="sesion", cascade="all, delete-orphan", order_by="AsistenteSesion.id"
    )

    @property
    def is_closed(self) -> bool:
        return self.status == EstadoSesion.CERRADA


class AsistenteSesion(db.Model):
    """A committee member recorded as present at a session (the quorum counts these)."""

    __tablename__ = "asistente_sesion"
    __table_args__ = (sa.UniqueConstraint("sesion_id", "user_id", name="uq_asistente_sesion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sesion_id: Mapped[int] = mapped_column(sa.ForeignKey("sesion_comite.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sesion: Mapped[SesionComite] = relationship(back_populates="asistentes")
    user: Mapped[User] = relationship()


class CorridaSolver(db.Model):
    """One run of the selection solver in a session: the reproducible document (inputs, result, hash)."""

    __tablename__ = "corrida_solver"

    id: Mapped[int] = mapped_column(primary_key=True)
    sesion_id: Mapped[int] = mapped_column(sa.ForeignKey("sesion_comite.id", ondelete="CASCADE"), index=True)
    objective: Mapped[Objetivo] = mapped_column(_enum(Objetivo, 10))
    input_sha256: Mapped[str] = mapped_column(sa.String(64))
    # `evaluacion.seleccion.selection_document(...)`: budget, objective, candidates, overrides, selected...
    document: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    feasible: Mapped[bool] = mapped_column(default=True)
    solve_seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))


class Override(enum.StrEnum):
    INCLUIR = "incluir"  # must include
    EXCLUIR = "excluir"  # must exclude


class OverrideComite(db.Model):
    """A committee override for the solver (must include / must exclude one submission), with its reason."""

    __tablename__ = "override_comite"
    __table_args__ = (sa.UniqueConstraint("sesion_id", "postulacion_id", name="uq_override_postulacion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sesion_id: Mapped[int] = mapped_column(sa.ForeignKey("sesion_comite.id", ondelete="CASCADE"), index=True)
    postulacion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("postulacion.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[Override] = mapped_column(_enum(Override, 10))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    postulacion: Mapped[Postulacion] = relationship()


class Resultado(enum.StrEnum):
    SELECCIONADA = "seleccionada"
    LISTA_ESPERA = "lista_espera"
    NO_SELECCIONADA = "no_seleccionada"
    # A selected team that declined the award (its place may go to the waitlist in a later session).
    DECLINADA = "declinada"


class Decision(db.Model):
    """The committee's decision on one submission in one session, with its reason and the figures it saw.

    The current outcome of a submission is its decision in the latest closed session of the call.
    """

    __tablename__ = "decision"
    __table_args__ = (sa.UniqueConstraint("sesion_id", "postulacion_id", name="uq_decision_postulacion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sesion_id: Mapped[int] = mapped_column(sa.ForeignKey("sesion_comite.id", ondelete="CASCADE"), index=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    postulacion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("postulacion.id", ondelete="CASCADE"), index=True
    )
    outcome: Mapped[Resultado] = mapped_column(_enum(Resultado, 20), index=True)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    # The figures at decision time: final score (0–1 after normalisation, shown on the rubric scale), rank.
    final_score: Mapped[float | None] = mapped_column(sa.Float)
    internal_score: Mapped[float | None] = mapped_column(sa.Float)
    vote_share: Mapped[float | None] = mapped_column(sa.Float)
    rank: Mapped[int | None]
    awarded_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    # Set when the applicant was told the outcome (so a re-sent notification job sends nothing twice).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    sesion: Mapped[SesionComite] = relationship()
    postulacion: Mapped[Postulacion] = relationship()
