"""Models of admissibility: a call's checklist of formal requirements, the lead's decision on each sent
submission and the applicant's one request for reconsideration (recurso de reposición)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from convocatorias.models import Convocatoria, Postulacion
from idea.chile import utcnow
from idea.extensions import db
from idea.models import User, UTCDateTime

# The formal requirements every new call starts with (Spanish: the checklist is content, not interface).
DEFAULT_REQUISITOS: tuple[str, ...] = (
    "Datos de la organización completos (nombre, RUT, tipo, región, comuna y contacto).",
    "Monto solicitado dentro del rango de la convocatoria.",
    "Desafío elegido entre los de la convocatoria.",
    "Adjuntos requeridos presentes y legibles.",
)


class RequisitoAdmisibilidad(db.Model):
    """A formal requirement of a call's admissibility checklist (editable while the call is a draft)."""

    __tablename__ = "requisito_admisibilidad"

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(sa.String(300))

    convocatoria: Mapped[Convocatoria] = relationship()


decision_requisito = sa.Table(
    "decision_requisito",
    db.metadata,
    sa.Column("decision_id", sa.ForeignKey("decision_admisibilidad.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("requisito_id", sa.ForeignKey("requisito_admisibilidad.id", ondelete="RESTRICT"),
              primary_key=True),
)


class DecisionAdmisibilidad(db.Model):
    """The lead's decision on one sent submission; a refusal names unmet requirements and a reason."""

    __tablename__ = "decision_admisibilidad"
    __table_args__ = (
        # A refusal always says why; the checkboxes are checked by the operation (the call may have none).
        sa.CheckConstraint("admissible OR (reason IS NOT NULL AND reason <> '')", name="refusal_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One decision per submission: a refused applicant changes it only through a reconsideration.
    postulacion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("postulacion.id", ondelete="CASCADE"), unique=True
    )
    admissible: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    postulacion: Mapped[Postulacion] = relationship()
    decided_by: Mapped[User | None] = relationship()
    incumplidos: Mapped[list[RequisitoAdmisibilidad]] = relationship(
        secondary=decision_requisito, order_by=RequisitoAdmisibilidad.position
    )


class Reconsideracion(db.Model):
    """A refused applicant's request for reconsideration (once per submission) and the lead's answer."""

    __tablename__ = "reconsideracion"
    __table_args__ = (
        sa.CheckConstraint(
            "(answered_at IS NULL AND accepted IS NULL AND answer IS NULL)"
            " OR (answered_at IS NOT NULL AND accepted IS NOT NULL AND answer IS NOT NULL)",
            name="answer_complete",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: the database makes "once" hold even for two requests at the same moment.
    postulacion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("postulacion.id", ondelete="CASCADE"), unique=True
    )
    decision_id: Mapped[int] = mapped_column(
        sa.ForeignKey("decision_admisibilidad.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(sa.Text)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    asked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    accepted: Mapped[bool | None]
    answer: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    postulacion: Mapped[Postulacion] = relationship()
    decision: Mapped[DecisionAdmisibilidad] = relationship()

    @property
    def is_pending(self) -> bool:
        return self.answered_at is None


def add_default_requisitos(convocatoria: Convocatoria) -> list[RequisitoAdmisibilidad]:
    """Give a new call the default checklist (the admin edits it while the call is a draft)."""
    rows = [RequisitoAdmisibilidad(convocatoria=convocatoria, position=i, text=text)
            for i, text in enumerate(DEFAULT_REQUISITOS)]
    db.session.add_all(rows)
    return rows
