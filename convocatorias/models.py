"""Models of calls, challenges, organisations and submissions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idea.chile import utcnow
from idea.extensions import db
from idea.models import User, UTCDateTime


def _enum(cls: type[enum.Enum], length: int = 30) -> sa.Enum:
    """A portable enum column storing the members' values (a CHECK constraint, not a native type)."""
    return sa.Enum(
        cls,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class Fase(enum.StrEnum):
    """The phases of a call, in order (see DESIGN.md, "The cycle")."""

    BORRADOR = "borrador"
    POSTULACION = "postulacion"
    ADMISIBILIDAD = "admisibilidad"
    EVALUACION = "evaluacion"
    VOTACION = "votacion"
    COMITE = "comite"
    FORMACION = "formacion"
    EJECUCION = "ejecucion"
    CIERRE = "cierre"


FASES_ORDEN: tuple[Fase, ...] = tuple(Fase)

# One transition table: a call only moves forward, one phase at a time.
FASE_TRANSICIONES: dict[Fase, tuple[Fase, ...]] = {
    fase: (FASES_ORDEN[i + 1],) if i + 1 < len(FASES_ORDEN) else () for i, fase in enumerate(FASES_ORDEN)
}


class GrupoVulnerable(db.Model):
    """A vulnerable group of the catalogue a challenge addresses (the six of Compromiso País and others)."""

    __tablename__ = "grupo_vulnerable"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    ministry: Mapped[str | None] = mapped_column(sa.String(120))
    description: Mapped[str | None] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(default=True)


class Convocatoria(db.Model):
    """A call for ideas: its money rules, its phase dates (UTC) and its challenges."""

    __tablename__ = "convocatoria"
    __table_args__ = (
        sa.CheckConstraint("min_amount <= max_amount", name="amount_range"),
        sa.CheckConstraint("vote_weight >= 0 AND vote_weight <= 100", name="vote_weight_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    year: Mapped[int]
    summary: Mapped[str] = mapped_column(sa.String(400), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    rules: Mapped[str] = mapped_column(sa.Text, default="")
    total_budget: Mapped[int] = mapped_column(sa.BigInteger)
    min_amount: Mapped[int] = mapped_column(sa.BigInteger)
    max_amount: Mapped[int] = mapped_column(sa.BigInteger)
    max_submissions_per_org: Mapped[int] = mapped_column(default=1)
    # Share of the popular vote in the final score, in percent (DESIGN: default 10 %).
    vote_weight: Mapped[int] = mapped_column(default=10)
    fase: Mapped[Fase] = mapped_column(_enum(Fase), default=Fase.BORRADOR, index=True)

    # Phase dates, stored in UTC, entered and shown in America/Santiago.
    submissions_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submissions_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    admissibility_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evaluation_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    vote_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    vote_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    committee_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    training_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    execution_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closing_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    desafios: Mapped[list[Desafio]] = relationship(
        back_populates="convocatoria", order_by="Desafio.position", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def title_has_year(self) -> bool:
        """Whether the title already says the year, so lists need not add "(2027)" after it."""
        return str(self.year) in self.title

    def accepts_submissions_at(self, moment: datetime) -> bool:
        """Whether a submission (or an edit) made at `moment` is within the submission window."""
        if self.fase != Fase.POSTULACION or self.submissions_close_at is None:
            return False
        if self.submissions_open_at is not None and moment < self.submissions_open_at:
            return False
        return moment <= self.submissions_close_at

    @property
    def folio_prefix(self) -> str:
        return f"IDEA-{self.year}-"


class Desafio(db.Model):
    """A challenge of a call: a problem in plain words with the metrics of the current situation."""

    __tablename__ = "desafio"

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(200))
    problem: Mapped[str] = mapped_column(sa.Text)
    grupo_vulnerable_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("grupo_vulnerable.id", ondelete="SET NULL"), index=True
    )
    partner_institution: Mapped[str | None] = mapped_column(sa.String(200))
    is_national: Mapped[bool] = mapped_column(default=True)

    convocatoria: Mapped[Convocatoria] = relationship(back_populates="desafios")
    grupo_vulnerable: Mapped[GrupoVulnerable | None] = relationship()
    regiones: Mapped[list[DesafioRegion]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    indicadores: Mapped[list[IndicadorLineaBase]] = relationship(
        back_populates="desafio", order_by="IndicadorLineaBase.position", cascade="all, delete-orphan"
    )

    @property
    def region_codes(self) -> list[str]:
        return sorted(r.region for r in self.regiones)

    def covers_region(self, region: str) -> bool:
        return self.is_national or region in self.region_codes


class DesafioRegion(db.Model):
    """A region in the scope of a non-national challenge."""

    __tablename__ = "desafio_region"

    desafio_id: Mapped[int] = mapped_column(sa.ForeignKey("desafio.id", ondelete="CASCADE"), primary_key=True)
    region: Mapped[str] = mapped_column(sa.String(2), primary_key=True)


class IndicadorLineaBase(db.Model):
    """A baseline indicator of a challenge: what is measured today, in which unit, by whom, when."""

    __tablename__ = "indicador_linea_base"

    id: Mapped[int] = mapped_column(primary_key=True)
    desafio_id: Mapped[int] = mapped_column(sa.ForeignKey("desafio.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(200))
    unit: Mapped[str] = mapped_column(sa.String(60))
    value: Mapped[Decimal] = mapped_column(sa.Numeric(18, 4))
    source: Mapped[str] = mapped_column(sa.String(300))
    measured_on: Mapped[date | None] = mapped_column(sa.Date)

    desafio: Mapped[Desafio] = relationship(back_populates="indicadores")


class TipoOrganizacion(enum.StrEnum):
    PUBLICO = "organismo_publico"
    MUNICIPALIDAD = "municipalidad"
    SIN_FINES_DE_LUCRO = "sin_fines_de_lucro"
    EMPRESA = "empresa"
    UNIVERSIDAD = "universidad"
    GRUPO_INFORMAL = "grupo_informal"


class Organizacion(db.Model):
    """The organisation (or informal group) an applicant submits for."""

    __tablename__ = "organizacion"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    rut: Mapped[str] = mapped_column(sa.String(12), unique=True)  # canonical "12345678-5"
    tipo: Mapped[TipoOrganizacion] = mapped_column(_enum(TipoOrganizacion))
    region: Mapped[str] = mapped_column(sa.String(2))
    comuna: Mapped[str] = mapped_column(sa.String(100))
    contact_name: Mapped[str | None] = mapped_column(sa.String(200))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship()


class ContadorFolio(db.Model):
    """The last folio number given under a folio prefix (`IDEA-2026-`): one row per prefix, locked while a
    folio is taken, so concurrent submissions queue for a moment instead of colliding and the numbers have
    no gaps. Keyed by the prefix, not the call: calls of the same year share the prefix, so they share the
    sequence (a regional call and the national one of 2026 never both give IDEA-2026-0001)."""

    __tablename__ = "contador_folio"

    prefix: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class EstadoPostulacion(enum.StrEnum):
    BORRADOR = "borrador"
    ENVIADA = "enviada"
    RETIRADA = "retirada"
    ADMISIBLE = "admisible"
    INADMISIBLE = "inadmisible"


class Madurez(enum.StrEnum):
    IDEA_VAGA = "idea_vaga"
    IDEA_CLARA = "idea_clara"
    IDEA_ESTUDIADA = "idea_estudiada"


# The fields of the simple profile, in form order; a version keeps a copy of all of them.
PERFIL_FIELDS: tuple[str, ...] = (
    "desafio_id",
    "title",
    "problem",
    "solution",
    "beneficiaries",
    "beneficiaries_count",
    "region",
    "comuna",
    "maturity",
    "coproduction",
    "requested_amount",
    "team",
)


class Postulacion(db.Model):
    """A submission: the simple profile of an idea for one challenge, from one organisation."""

    __tablename__ = "postulacion"
    __table_args__ = (
        sa.UniqueConstraint("convocatoria_id", "folio_number", name="uq_postulacion_folio_number"),
        sa.CheckConstraint("status = 'borrador' OR folio IS NOT NULL", name="sent_has_folio"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    desafio_id: Mapped[int] = mapped_column(sa.ForeignKey("desafio.id", ondelete="RESTRICT"), index=True)
    organizacion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizacion.id", ondelete="RESTRICT"), index=True
    )
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="RESTRICT"), index=True)
    status: Mapped[EstadoPostulacion] = mapped_column(
        _enum(EstadoPostulacion), default=EstadoPostulacion.BORRADOR, index=True
    )
    folio_number: Mapped[int | None]
    folio: Mapped[str | None] = mapped_column(sa.String(30), unique=True)

    title: Mapped[str] = mapped_column(sa.String(200))
    problem: Mapped[str] = mapped_column(sa.Text, default="")
    solution: Mapped[str] = mapped_column(sa.Text, default="")
    beneficiaries: Mapped[str] = mapped_column(sa.Text, default="")
    beneficiaries_count: Mapped[int | None]
    region: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    comuna: Mapped[str | None] = mapped_column(sa.String(100))
    maturity: Mapped[Madurez | None] = mapped_column(_enum(Madurez))
    coproduction: Mapped[str] = mapped_column(sa.Text, default="")
    requested_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    team: Mapped[str] = mapped_column(sa.Text, default="")

    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    convocatoria: Mapped[Convocatoria] = relationship()
    desafio: Mapped[Desafio] = relationship()
    organizacion: Mapped[Organizacion] = relationship()
    created_by: Mapped[User] = relationship()
    adjuntos: Mapped[list[Adjunto]] = relationship(
        back_populates="postulacion", order_by="Adjunto.id", cascade="all, delete-orphan"
    )
    historial: Mapped[list[CambioEstado]] = relationship(
        back_populates="postulacion", order_by="CambioEstado.id", cascade="all, delete-orphan"
    )
    versiones: Mapped[list[PostulacionVersion]] = relationship(
        back_populates="postulacion", order_by="PostulacionVersion.number", cascade="all, delete-orphan"
    )

    def profile_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in PERFIL_FIELDS:
            value = getattr(self, name)
            data[name] = value.value if isinstance(value, enum.Enum) else value
        return data


class PostulacionVersion(db.Model):
    """A copy of the profile as it was sent (first submission and every later edit)."""

    __tablename__ = "postulacion_version"
    __table_args__ = (sa.UniqueConstraint("postulacion_id", "number", name="uq_postulacion_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    postulacion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("postulacion.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    postulacion: Mapped[Postulacion] = relationship(back_populates="versiones")


class CambioEstado(db.Model):
    """One step of a submission's status history, shown to the applicant."""

    __tablename__ = "cambio_estado"

    id: Mapped[int] = mapped_column(primary_key=True)
    postulacion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("postulacion.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[EstadoPostulacion | None] = mapped_column(_enum(EstadoPostulacion))
    to_status: Mapped[EstadoPostulacion] = mapped_column(_enum(EstadoPostulacion))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(sa.Text)

    postulacion: Mapped[Postulacion] = relationship(back_populates="historial")


class Adjunto(db.Model):
    """An attachment (PDF, PNG or JPEG) of a submission, stored outside the web root under a random name."""

    __tablename__ = "adjunto"

    id: Mapped[int] = mapped_column(primary_key=True)
    postulacion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("postulacion.id", ondelete="CASCADE"), index=True
    )
    original_name: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(50))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    postulacion: Mapped[Postulacion] = relationship(back_populates="adjuntos")


class Recordatorio(db.Model):
    """A deadline reminder sent for a draft; the unique key makes a rerun send nothing twice."""

    __tablename__ = "recordatorio"
    __table_args__ = (sa.UniqueConstraint("postulacion_id", "kind", name="uq_recordatorio_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    postulacion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("postulacion.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(10))  # "72h" or "24h"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EstadoExportacion(enum.StrEnum):
    PENDIENTE = "pendiente"
    EN_CURSO = "en_curso"
    LISTA = "lista"
    FALLIDA = "fallida"


class Exportacion(db.Model):
    """A large export of submissions written by a background job: its progress, then its file for a while.

    The file (under UPLOAD_DIR/exports) may be downloaded only by the person who asked for it, while the
    call is still in their scope, until `expires_at`; then row and file are removed.
    """

    __tablename__ = "exportacion"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    convocatoria_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convocatoria.id", ondelete="CASCADE"), index=True
    )
    format: Mapped[str] = mapped_column(sa.String(4))
    filters: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[EstadoExportacion] = mapped_column(
        _enum(EstadoExportacion, 10), default=EstadoExportacion.PENDIENTE
    )
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    stored_name: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    convocatoria: Mapped[Convocatoria] = relationship()

    @property
    def percent(self) -> int:
        if self.status == EstadoExportacion.LISTA:
            return 100
        return min(99, 100 * self.rows_done // self.rows_total) if self.rows_total else 0
