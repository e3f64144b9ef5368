"""Models of the popular vote: the call's voting settings, the published shortlist with its vote counters,
the voters (a keyed hash of the RUT, never the RUT), the confirmation requests and the votes.

Double counting is impossible by construction, not by a check in Python:
- one vote per person per idea: unique (votante_id, preseleccion_id);
- at most V votes per person per call: each vote takes a numbered slot, unique (votante_id, slot), and the
  operation only ever tries slots 1..V;
- one vote per confirmation link: unique solicitud_id.
A concurrent duplicate fails on the constraint and the operation answers "already counted".
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from convocatorias.models import Convocatoria, Postulacion, _enum
from idea.chile import utcnow
from idea.extensions import db
from idea.models import UTCDateTime


class ModoPreseleccion(enum.StrEnum):
    TODAS = "todas"  # every admissible submission
    MEJORES = "mejores"  # the top N per challenge by internal score


class ConfiguracionVotacion(db.Model):
    """The popular-vote settings of one call (one row per call) and the state of its shortlist."""

    __tablename__ = "configuracion_votacion"
    __table_args__ = (
        sa.CheckConstraint("top_n IS NULL OR top_n >= 1", name="top_n_positive"),
        sa.CheckConstraint(
            "max_votes_per_person >= 1 AND max_votes_per_person <= 50", name="max_votes_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), unique=True
    )
    mode: Mapped[ModoPreseleccion] = mapped_column(
        _enum(ModoPreseleccion, 20), default=ModoPreseleccion.TODAS
    )
    top_n: Mapped[int | None]  # per challenge, when mode == mejores
    max_votes_per_person: Mapped[int] = mapped_column(default=1)  # V
    show_counts: Mapped[bool] = mapped_column(default=True)  # counts visible during the vote
    # Set when the lead publishes the shortlist; the call cannot enter `votacion` without it.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    # Set when the e-mail addresses of the voters were erased after the vote closed.
    emails_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    convocatoria: Mapped[Convocatoria] = relationship()

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Preseleccion(db.Model):
    """A submission on the public voting page, with its counter of valid (confirmed, not annulled) votes.

    The counter is what every card reads (no COUNT over votes); it is moved only by the vote and annul
    operations, inside their transaction, and can be recomputed from the votes (`recount_votes`).
    """

    __tablename__ = "preseleccion"
    __table_args__ = (
        sa.UniqueConstraint("convocatoria_id", "postulacion_id", name="uq_preseleccion_postulacion"),
        sa.CheckConstraint("vote_count >= 0", name="vote_count_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    postulacion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("postulacion.id", ondelete="CASCADE"), index=True
    )
    # The internal score and rank at the time the shortlist was made (shown to the lead only).
    internal_score: Mapped[float | None] = mapped_column(sa.Float)
    internal_rank: Mapped[int | None]
    # The public text of the card: a short summary written from the profile (no personal data).
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    vote_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    postulacion: Mapped[Postulacion] = relationship()


class Votante(db.Model):
    """A person who voted (or asked to) in one call, known by a keyed hash of their normalised RUT.

    The hash is HMAC-SHA256 with a key from the config (`VOTE_HASH_KEY`): the plain RUT is never stored.
    The e-mail is kept only until the vote closes (then erased; the domain stays for the integrity watch).
    """

    __tablename__ = "votante"
    __table_args__ = (sa.UniqueConstraint("convocatoria_id", "rut_hash", name="uq_votante_rut"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    rut_hash: Mapped[str] = mapped_column(sa.String(64))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    email_domain: Mapped[str] = mapped_column(sa.String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SolicitudVoto(db.Model):
    """A request to vote: what the voter asked for, waiting for the e-mailed link to be confirmed.

    The link carries `token` signed (itsdangerous) with a 24 h age limit; only its sha256 is stored. One
    confirmation counts at most one vote (unique `Voto.solicitud_id`).
    """

    __tablename__ = "solicitud_voto"

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    preseleccion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("preseleccion.id", ondelete="CASCADE"), index=True
    )
    votante_id: Mapped[int] = mapped_column(sa.ForeignKey("votante.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The network the request came from: a keyed hash of the /24 (IPv4) or /48 (IPv6) prefix, never the IP.
    network_hash: Mapped[str] = mapped_column(sa.String(64), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    preseleccion: Mapped[Preseleccion] = relationship()
    votante: Mapped[Votante] = relationship()


class Voto(db.Model):
    """A counted vote. Annulled votes stay (with reason, who and when) and leave every total."""

    __tablename__ = "voto"
    __table_args__ = (
        sa.UniqueConstraint("votante_id", "preseleccion_id", name="uq_voto_persona_idea"),
        sa.UniqueConstraint("votante_id", "slot", name="uq_voto_persona_slot"),
        sa.UniqueConstraint("solicitud_id", name="uq_voto_solicitud"),
        sa.CheckConstraint("slot >= 1", name="slot_positive"),
        sa.CheckConstraint("annulled_at IS NULL OR annulled_reason IS NOT NULL", name="annulled_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    preseleccion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("preseleccion.id", ondelete="CASCADE"), index=True
    )
    votante_id: Mapped[int] = mapped_column(sa.ForeignKey("votante.id", ondelete="CASCADE"), index=True)
    solicitud_id: Mapped[int] = mapped_column(sa.ForeignKey("solicitud_voto.id", ondelete="CASCADE"))
    slot: Mapped[int]
    network_hash: Mapped[str] = mapped_column(sa.String(64), default="", index=True)
    email_domain: Mapped[str] = mapped_column(sa.String(254), default="")
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    annulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    annulled_reason: Mapped[str | None] = mapped_column(sa.Text)
    annulled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    preseleccion: Mapped[Preseleccion] = relationship()
    votante: Mapped[Votante] = relationship()

    @property
    def is_valid(self) -> bool:
        return self.annulled_at is None
