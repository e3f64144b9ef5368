"""Models of the closure (cierre): each pilot's systematization sheet with its review history and the frozen
figures taken when it is published, and the e-mail subscriptions to new sheets of the public learning
repository (by vulnerable group or by region)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from convocatorias.models import _enum
from idea.chile import utcnow
from idea.extensions import db
from idea.models import User, UTCDateTime
from pilotos.ejecucion_models import Piloto

# On PostgreSQL the search document is a tsvector (Spanish configuration) written with each change of the
# sheet; on SQLite the column exists but stays empty (the search uses `search_text` with LIKE).
SearchVector = postgresql.TSVECTOR().with_variant(sa.Text(), "sqlite")


class EstadoSistematizacion(enum.StrEnum):
    BORRADOR = "borrador"
    ENVIADA = "enviada"
    CON_OBSERVACIONES = "con_observaciones"
    PUBLICADA = "publicada"


class ResultadoPiloto(enum.StrEnum):
    ESCALAR = "escalar"
    AJUSTAR = "ajustar"  # adjust and repeat
    NO_CONTINUAR = "no_continuar"


class Sistematizacion(db.Model):
    """A pilot's systematization sheet: what it learnt, written by the team once the pilot is closed (or its
    final report sent), reviewed and published by the lead. Published sheets make the learning repository.

    `snapshot` holds the pilot's figures against the baseline as they were at publication (from its approved
    reports), so the public sheet never moves afterwards. The filter columns (challenge, region, year,
    groups) and the search text are copied here so the public list needs no join per row."""

    __tablename__ = "sistematizacion"
    __table_args__ = (sa.Index("ix_sistematizacion_search_vector", "search_vector", postgresql_using="gin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    piloto_id: Mapped[int] = mapped_column(sa.ForeignKey("piloto.id", ondelete="CASCADE"), unique=True)
    problem: Mapped[str] = mapped_column(sa.Text, default="")
    solution: Mapped[str] = mapped_column(sa.Text, default="")
    results: Mapped[str] = mapped_column(sa.Text, default="")
    learnings: Mapped[str] = mapped_column(sa.Text, default="")
    scaling_conditions: Mapped[str] = mapped_column(sa.Text, default="")
    # A key of pilotos.aprendizaje.ADOPTERS (a programme or a ministry), and/or free text.
    adopter: Mapped[str] = mapped_column(sa.String(40), default="")
    adopter_other: Mapped[str] = mapped_column(sa.String(300), default="")
    # Keys of pilotos.aprendizaje.GRUPOS, as "|ninez|migrantes|" (LIKE '%|ninez|%' finds a group, no join).
    groups: Mapped[str] = mapped_column(sa.String(400), default="")
    outcome: Mapped[ResultadoPiloto | None] = mapped_column(_enum(ResultadoPiloto, 20))
    status: Mapped[EstadoSistematizacion] = mapped_column(
        _enum(EstadoSistematizacion, 20), default=EstadoSistematizacion.BORRADOR, index=True
    )
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # Denormalised for the public list and its filters.
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    desafio_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("desafio.id", ondelete="SET NULL"), index=True
    )
    desafio_title: Mapped[str] = mapped_column(sa.String(300), default="")
    region: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    year: Mapped[int | None] = mapped_column(index=True)
    # Lowercased, unaccented text of the sheet (the SQLite search, and the source of the tsvector).
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    search_vector: Mapped[Any] = mapped_column(SearchVector, nullable=True, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # When the subscribers' digest took it (each published sheet goes in one digest).
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    piloto: Mapped[Piloto] = relationship()
    historial: Mapped[list[RevisionSistematizacion]] = relationship(
        back_populates="sistematizacion", cascade="all, delete-orphan", order_by="RevisionSistematizacion.id"
    )

    @property
    def group_keys(self) -> list[str]:
        return [g for g in (self.groups or "").split("|") if g]


class AccionSistematizacion(enum.StrEnum):
    ENVIADA = "enviada"
    OBSERVADA = "observada"
    PUBLICADA = "publicada"


class RevisionSistematizacion(db.Model):
    """One step of a sheet's history: sent by the team, sent back with the lead's comment, or published."""

    __tablename__ = "revision_sistematizacion"

    id: Mapped[int] = mapped_column(primary_key=True)
    sistematizacion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sistematizacion.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[AccionSistematizacion] = mapped_column(_enum(AccionSistematizacion, 20))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sistematizacion: Mapped[Sistematizacion] = relationship(back_populates="historial")
    actor: Mapped[User | None] = relationship()


class TipoSuscripcion(enum.StrEnum):
    GRUPO = "grupo"
    REGION = "region"


class SuscripcionAprendizaje(db.Model):
    """An e-mail address that asked for new sheets of one vulnerable group or one region. Counts only once
    confirmed from the e-mailed link (double opt-in); unsubscribing deletes the row. No account needed."""

    __tablename__ = "suscripcion_aprendizaje"
    __table_args__ = (sa.UniqueConstraint("email", "kind", "value", name="uq_suscripcion_aprendizaje"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    kind: Mapped[TipoSuscripcion] = mapped_column(_enum(TipoSuscripcion, 10))
    value: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
