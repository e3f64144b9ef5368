"""Operations of the closure: the systematization sheet (the team writes it once its pilot is closed or its
final report is sent, sends it; the lead sends it back with a comment or publishes it, which freezes the
pilot's figures against the baseline), the public repository's search and filters, its open data, and the
e-mail subscriptions with their digest.

Each change takes the actor explicitly, never commits, records an audit event and raises
pilotos.operations.FormacionError with every message at once, before anything is written.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import LazyString, force_locale, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from idea import audit, chile, pagecache
from idea.extensions import db
from idea.mail import external_url, send_email
from idea.models import User
from pilotos import ejecucion_figures as figs
from pilotos.aprendizaje_models import (
    AccionSistematizacion,
    EstadoSistematizacion,
    ResultadoPiloto,
    RevisionSistematizacion,
    Sistematizacion,
    SuscripcionAprendizaje,
    TipoSuscripcion,
)
from pilotos.avisos import notify_team
from pilotos.ejecucion_models import EstadoPiloto, EstadoReporte, Piloto, ReportePiloto, TipoReporte
from pilotos.operations import FormacionError
from pilotos.permissions import can_manage_team, is_member

SCOPE = "aprendizaje"  # the page-cache scope of the public repository
pagecache.watch_models(SCOPE, Sistematizacion)

# The fixed list of vulnerable groups a sheet is tagged with: the six groups of Compromiso País (seeds/002)
# and the populations of the Subsistema Seguridades y Oportunidades programmes (seeds/000).
GRUPOS: dict[str, Any] = {
    "ninez": _l("Children and adolescents"),
    "nna-fuera-escuela": _l("Children and adolescents out of school"),
    "nna-proteccion": _l("Children and adolescents under state protection"),
    "personas-mayores": _l("Older people"),
    "mujeres-jefas-hogar": _l("Women heads of household"),
    "pueblos-indigenas": _l("Indigenous peoples"),
    "discapacidad": _l("People with disabilities or dependency"),
    "cuidadoras": _l("Carers"),
    "migrantes": _l("Migrants"),
    "situacion-calle": _l("Homeless people"),
    "consumo": _l("People with problematic alcohol or drug use"),
    "desempleo": _l("Unemployed people"),
    "pobreza-extrema": _l("Families in extreme poverty"),
}

# Who could adopt a pilot: the programmes of the Subsistema Seguridades y Oportunidades and the Subsistema
# Nacional de Apoyos y Cuidados (seeds/000), and the ministries and services. Proper names: not translated.
PROGRAMAS: dict[str, str] = {
    "familias": "Programa Familias (Seguridades y Oportunidades)",
    "abriendo-caminos": "Programa Abriendo Caminos",
    "vinculos": "Programa Vínculos (apoyo integral al adulto mayor)",
    "calle": "Programa de Apoyo a Personas en Situación de Calle",
    "chcc": "Programa de Apoyo al Desarrollo Biopsicosocial (Chile Crece Contigo)",
    "cuidados": "Subsistema Nacional de Apoyos y Cuidados",
}
MINISTERIOS: dict[str, str] = {
    "mds": "Ministerio de Desarrollo Social y Familia",
    "fosis": "FOSIS",
    "senama": "Servicio Nacional del Adulto Mayor (SENAMA)",
    "senadis": "Servicio Nacional de la Discapacidad (SENADIS)",
    "conadi": "Corporación Nacional de Desarrollo Indígena (CONADI)",
    "injuv": "Instituto Nacional de la Juventud (INJUV)",
    "mineduc": "Ministerio de Educación",
    "minsal": "Ministerio de Salud",
    "mintrab": "Ministerio del Trabajo y Previsión Social",
    "minjusticia": "Ministerio de Justicia y Derechos Humanos",
    "minmujer": "Ministerio de la Mujer y la Equidad de Género",
    "minvu": "Ministerio de Vivienda y Urbanismo",
    "senda": "Servicio Nacional para la Prevención y Rehabilitación del Consumo de Drogas y Alcohol (SENDA)",
}
ADOPTERS: dict[str, str] = {**PROGRAMAS, **MINISTERIOS}

OUTCOMES: dict[str, Any] = {
    ResultadoPiloto.ESCALAR.value: _l("Scale up"),
    ResultadoPiloto.AJUSTAR.value: _l("Adjust and repeat"),
    ResultadoPiloto.NO_CONTINUAR.value: _l("Do not continue"),
}
STATUS_LABELS: dict[str, Any] = {
    EstadoSistematizacion.BORRADOR.value: _l("Draft"),
    # A "ficha" is feminine in Spanish, unlike a report: its own context.
    EstadoSistematizacion.ENVIADA.value: LazyString(
        lambda: pgettext("sheet status", "Sent, waiting for review")
    ),
    EstadoSistematizacion.CON_OBSERVACIONES.value: LazyString(
        lambda: pgettext("sheet status", "Sent back for changes")
    ),
    EstadoSistematizacion.PUBLICADA.value: _l("Published"),
}
EDITABLE = (EstadoSistematizacion.BORRADOR, EstadoSistematizacion.CON_OBSERVACIONES)
MAX_TEXT = 5000
TEXT_FIELDS = ("problem", "solution", "results", "learnings", "scaling_conditions")


# --- text for the search ----------------------------------------------------------------------------------


def unaccent(text: str) -> str:
    """Lowercase without accents or tildes ("Educación, niños" → "educacion, ninos"): how the search stores
    the document and reads the query, on both databases."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _refresh_denormalised(sheet: Sistematizacion, piloto: Piloto) -> None:
    postulacion = piloto.equipo.postulacion
    desafio = postulacion.desafio if postulacion is not None else None
    # The idea's title names the pilot (the team's name is its organisation's: not shown in public).
    sheet.title = ((postulacion.title if postulacion is not None else "") or piloto.name)[:200]
    sheet.desafio_id = desafio.id if desafio is not None else None
    sheet.desafio_title = (desafio.title if desafio is not None else "")[:300]
    sheet.region = piloto.region
    sheet.year = piloto.convocatoria.year
    with force_locale("es_CL"):
        groups = [str(GRUPOS[g]) for g in sheet.group_keys if g in GRUPOS]
        outcome = str(OUTCOMES[sheet.outcome.value]) if sheet.outcome else ""
    parts = [
        sheet.title,
        sheet.desafio_title,
        chile.region_name(sheet.region, default="") if sheet.region else "",
        ADOPTERS.get(sheet.adopter, ""),
        sheet.adopter_other,
        outcome,
        *groups,
        *(getattr(sheet, name) for name in TEXT_FIELDS),
    ]
    sheet.search_text = unaccent("\n".join(p for p in parts if p))
    if _is_postgresql():
        sheet.search_vector = sa.func.to_tsvector(
            sa.literal_column("'spanish'::regconfig"), sheet.search_text
        )


# --- who may do what ------------------------------------------------------------------------------------


def final_report(piloto: Piloto) -> ReportePiloto | None:
    return db.session.scalar(
        sa.select(ReportePiloto)
        .where(ReportePiloto.piloto_id == piloto.id, ReportePiloto.kind == TipoReporte.FINAL)
        .order_by(ReportePiloto.number.desc())
        .limit(1)
    )


def ready_for_sheet(piloto: Piloto) -> bool:
    """A sheet is written once the pilot is closed, or its final report has been sent."""
    if piloto.status == EstadoPiloto.CERRADO:
        return True
    report = final_report(piloto)
    return report is not None and report.status in (EstadoReporte.ENVIADO, EstadoReporte.APROBADO)


def can_write(user: Any, piloto: Piloto) -> bool:
    return is_member(user, piloto.equipo)


def can_review(user: Any, piloto: Piloto) -> bool:
    """Admins and the technical leads of the pilot's call (a regional lead only in their regions)."""
    return can_manage_team(user, piloto.equipo)


def can_see(user: Any, sheet: Sistematizacion) -> bool:
    """A published sheet is public; before that only the team and its leads see it."""
    if sheet.status == EstadoSistematizacion.PUBLICADA:
        return True
    return can_write(user, sheet.piloto) or can_review(user, sheet.piloto)


def sheet_of(piloto: Piloto) -> Sistematizacion | None:
    return db.session.scalar(sa.select(Sistematizacion).where(Sistematizacion.piloto_id == piloto.id))


# --- writing and reviewing --------------------------------------------------------------------------------


@dataclass
class SheetData:
    problem: str = ""
    solution: str = ""
    results: str = ""
    learnings: str = ""
    scaling_conditions: str = ""
    adopter: str = ""
    adopter_other: str = ""
    groups: tuple[str, ...] = ()
    outcome: str = ""


def _clean(data: SheetData) -> SheetData:
    return SheetData(
        **{name: (getattr(data, name) or "").strip() for name in TEXT_FIELDS},
        adopter=(data.adopter or "").strip(),
        adopter_other=(data.adopter_other or "").strip(),
        groups=tuple(sorted({g for g in data.groups if g})),
        outcome=(data.outcome or "").strip(),
    )


LABELS = {
    "problem": _l("Problem"),
    "solution": _l("Solution"),
    "results": _l("Results against the baseline"),
    "learnings": _l("What the pilot learnt"),
    "scaling_conditions": _l("Conditions for scaling"),
}


def problems(data: SheetData, sending: bool) -> list[str]:
    """Every reason the data cannot be saved (or, when `sending`, sent), at once."""
    errors = []
    for name in TEXT_FIELDS:
        value = getattr(data, name)
        if len(value) > MAX_TEXT:
            errors.append(_("%(field)s: at most %(num)s characters.", field=LABELS[name], num="5.000"))
        elif sending and not value:
            errors.append(_("%(field)s: write it before sending the sheet.", field=LABELS[name]))
    if data.adopter and data.adopter not in ADOPTERS:
        errors.append(_("Choose a programme or ministry from the list."))
    if len(data.adopter_other) > 300:
        errors.append(_("Another programme or institution: at most 300 characters."))
    if any(g not in GRUPOS for g in data.groups):
        errors.append(_("Choose vulnerable groups from the list."))
    if data.outcome and data.outcome not in OUTCOMES:
        errors.append(_("Choose what should happen with the pilot."))
    if sending:
        if not data.groups:
            errors.append(_("Choose at least one vulnerable group."))
        if not data.outcome:
            errors.append(_("Choose what should happen with the pilot."))
        if not data.adopter and not data.adopter_other:
            errors.append(_("Say which programme or ministry could adopt the pilot."))
    return errors


def save(actor: User, piloto: Piloto, data: SheetData, *, send: bool = False) -> Sistematizacion:
    """Save the team's sheet as a draft, or send it for review (every field then required)."""
    if not can_write(actor, piloto):
        raise FormacionError(_("Only the pilot's team writes its sheet."))
    if not ready_for_sheet(piloto):
        raise FormacionError(_("The sheet is written once the pilot is closed or its final report is sent."))
    sheet = sheet_of(piloto)
    if sheet is not None and sheet.status not in EDITABLE:
        raise FormacionError(_("The sheet was sent: it can be changed only if the lead sends it back."))
    data = _clean(data)
    errors = problems(data, send)
    if errors:
        raise FormacionError(*errors)
    if sheet is None:
        sheet = Sistematizacion(piloto_id=piloto.id, status=EstadoSistematizacion.BORRADOR)
        db.session.add(sheet)
    for name in TEXT_FIELDS:
        setattr(sheet, name, getattr(data, name))
    sheet.adopter = data.adopter
    sheet.adopter_other = data.adopter_other
    sheet.groups = ("|" + "|".join(data.groups) + "|") if data.groups else ""
    sheet.outcome = ResultadoPiloto(data.outcome) if data.outcome else None
    _refresh_denormalised(sheet, piloto)
    db.session.flush()
    if send:
        sheet.status = EstadoSistematizacion.ENVIADA
        sheet.submitted_at = chile.utcnow()
        sheet.historial.append(
            RevisionSistematizacion(action=AccionSistematizacion.ENVIADA, actor_id=actor.id)
        )
        audit.record(actor, "sistematizacion.sent", sheet, after={"status": sheet.status.value})
    else:
        audit.record(actor, "sistematizacion.saved", sheet)
    return sheet


def send_back(actor: User, sheet: Sistematizacion, comment: str) -> None:
    if not can_review(actor, sheet.piloto):
        raise FormacionError(_("Only the pilot's lead reviews its sheet."))
    if sheet.status != EstadoSistematizacion.ENVIADA:
        raise FormacionError(_("Only a sheet sent for review can be sent back."))
    comment = (comment or "").strip()
    if not comment:
        raise FormacionError(_("Say what the team should change."))
    if len(comment) > MAX_TEXT:
        raise FormacionError(_("The comment is too long (at most 5.000 characters)."))
    sheet.status = EstadoSistematizacion.CON_OBSERVACIONES
    sheet.historial.append(
        RevisionSistematizacion(action=AccionSistematizacion.OBSERVADA, comment=comment, actor_id=actor.id)
    )
    audit.record(actor, "sistematizacion.returned", sheet, after={"status": sheet.status.value})
    notify_team(
        sheet.piloto.equipo,
        _l("Pilot %(pilot)s: your systematization sheet was sent back", pilot=sheet.piloto.name),
        [
            _l(
                "The lead sent the systematization sheet of the pilot %(pilot)s back with this comment:",
                pilot=sheet.piloto.name,
            )
        ],
        comment=comment,
        link=external_url("pilotos_aprendizaje.team_sheet", piloto_id=sheet.piloto_id),
        link_label=_l("Open the sheet"),
    )


def publish(actor: User, sheet: Sistematizacion) -> None:
    """Publish the sheet in the learning repository, freezing the pilot's figures as they are now."""
    if not can_review(actor, sheet.piloto):
        raise FormacionError(_("Only the pilot's lead reviews its sheet."))
    if sheet.status != EstadoSistematizacion.ENVIADA:
        raise FormacionError(_("Only a sheet sent for review can be published."))
    now = chile.utcnow()
    sheet.snapshot = take_snapshot(sheet.piloto, now)
    sheet.status = EstadoSistematizacion.PUBLICADA
    sheet.published_at = now
    _refresh_denormalised(sheet, sheet.piloto)
    sheet.historial.append(RevisionSistematizacion(action=AccionSistematizacion.PUBLICADA, actor_id=actor.id))
    db.session.flush()
    audit.record(actor, "sistematizacion.published", sheet, after={"status": sheet.status.value})
    notify_team(
        sheet.piloto.equipo,
        _l("Pilot %(pilot)s: your systematization sheet is published", pilot=sheet.piloto.name),
        [
            _l(
                "The systematization sheet of the pilot %(pilot)s is published in the public learning "
                "repository.",
                pilot=sheet.piloto.name,
            )
        ],
        link=external_url("aprendizaje_public.ficha", sistematizacion_id=sheet.id),
        link_label=_l("See the published sheet"),
    )


# --- the frozen figures ---------------------------------------------------------------------------------

MISSING_KEYS: dict[str, Any] = {
    "no_planned": figs.NO_PLANNED,
    "no_reached": figs.NO_REACHED,
    "no_award": figs.NO_AWARD,
    "no_baseline": figs.NO_BASELINE,
    "no_target": figs.NO_TARGET,
    "target_is_baseline": figs.TARGET_IS_BASELINE,
    "no_measure": figs.NO_MEASURE,
}


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _figure(figure: figs.Figure) -> dict[str, Any]:
    missing = next((k for k, v in MISSING_KEYS.items() if v is figure.missing), None)
    return {
        "value": _num(figure.value),
        "formula": figure.formula,
        "numerator": _num(figure.numerator),
        "denominator": _num(figure.denominator),
        "missing": missing,
        "flagged": figure.flagged,
    }


def take_snapshot(piloto: Piloto, now: datetime | None = None) -> dict[str, Any]:
    """The pilot's figures over its approved reports (plain JSON: numbers as text, no personal data)."""
    reports = db.session.scalars(
        sa.select(ReportePiloto.data)
        .where(ReportePiloto.piloto_id == piloto.id, ReportePiloto.status == EstadoReporte.APROBADO)
        .order_by(ReportePiloto.number)
    ).all()
    f = figs.pilot_figures(piloto.plan or {}, piloto.amount, piloto.beneficiaries_planned, reports)
    return {
        "taken_at": (now or chile.utcnow()).isoformat(),
        "reports": len(reports),
        "awarded": f.awarded,
        "planned_beneficiaries": f.planned_beneficiaries,
        "reached": f.reached,
        "executed": f.executed,
        "coverage": _figure(f.coverage),
        "spending_per_beneficiary": _figure(f.spending_per_beneficiary),
        "budget_execution": _figure(f.budget_execution),
        "indicators": [
            {
                "name": r.name,
                "unit": r.unit,
                "baseline": _num(r.baseline),
                "target": _num(r.target),
                "actual": _num(r.actual),
                "progress": _figure(r.progress),
            }
            for r in f.indicators
        ],
    }


@dataclass(frozen=True)
class ShownFigure:
    value: Decimal | None
    formula: str
    numerator: Decimal | None
    denominator: Decimal | None
    missing: Any
    flagged: bool

    @property
    def percent(self) -> Decimal | None:
        return None if self.value is None else (self.value * 100).quantize(Decimal("0.1"))


def shown_figure(raw: dict[str, Any] | None) -> ShownFigure:
    raw = raw or {}
    return ShownFigure(
        value=figs.to_decimal(raw.get("value")),
        formula=str(raw.get("formula") or ""),
        numerator=figs.to_decimal(raw.get("numerator")),
        denominator=figs.to_decimal(raw.get("denominator")),
        missing=MISSING_KEYS.get(str(raw.get("missing"))),
        flagged=bool(raw.get("flagged")),
    )


def snapshot_indicators(snapshot: dict[str, Any] | None) -> list[figs.IndicatorRow]:
    """The snapshot's indicator rows, as the charts take them."""
    rows = []
    for raw in (snapshot or {}).get("indicators") or []:
        rows.append(
            figs.IndicatorRow(
                name=str(raw.get("name", "")),
                unit=str(raw.get("unit", "")),
                baseline=figs.to_decimal(raw.get("baseline")),
                target=figs.to_decimal(raw.get("target")),
                actual=figs.to_decimal(raw.get("actual")),
                progress=shown_figure(raw.get("progress")),  # type: ignore[arg-type]
            )
        )
    return rows


# --- the public repository ---------------------------------------------------------------------------------

PER_PAGE = 20


@dataclass(frozen=True)
class Filters:
    q: str = ""
    desafio: int | None = None
    grupo: str | None = None
    region: str | None = None
    year: int | None = None
    resultado: str | None = None

    @property
    def active(self) -> bool:
        return any((self.q, self.desafio, self.grupo, self.region, self.year, self.resultado))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def published_query(filters: Filters) -> sa.Select[Any]:
    stmt = sa.select(Sistematizacion).where(Sistematizacion.status == EstadoSistematizacion.PUBLICADA)
    if filters.desafio:
        stmt = stmt.where(Sistematizacion.desafio_id == filters.desafio)
    if filters.grupo:
        stmt = stmt.where(Sistematizacion.groups.like(f"%|{_like_escape(filters.grupo)}|%", escape="\\"))
    if filters.region:
        stmt = stmt.where(Sistematizacion.region == filters.region)
    if filters.year:
        stmt = stmt.where(Sistematizacion.year == filters.year)
    if filters.resultado:
        stmt = stmt.where(Sistematizacion.outcome == ResultadoPiloto(filters.resultado))
    query = unaccent(filters.q).strip()
    if query:
        if _is_postgresql():
            stmt = stmt.where(
                Sistematizacion.search_vector.op("@@")(
                    sa.func.plainto_tsquery(sa.literal_column("'spanish'::regconfig"), query)
                )
            )
        else:
            for word in query.split()[:10]:
                stmt = stmt.where(Sistematizacion.search_text.like(f"%{_like_escape(word)}%", escape="\\"))
    return stmt


@dataclass
class Page:
    """One page of the list (what `_macros/forms.html` pager() reads)."""

    items: list[Sistematizacion]
    total: int
    page: int
    pages: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def search(filters: Filters, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of published sheets, newest first: two queries, whatever the number of sheets."""
    stmt = published_query(filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = list(
        db.session.scalars(
            stmt.order_by(Sistematizacion.published_at.desc(), Sistematizacion.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return Page(items=items, total=total, page=page, pages=pages)


def filter_options() -> dict[str, Any]:
    """The challenges and years that have published sheets (one query)."""
    rows = db.session.execute(
        sa.select(Sistematizacion.desafio_id, Sistematizacion.desafio_title, Sistematizacion.year)
        .where(Sistematizacion.status == EstadoSistematizacion.PUBLICADA)
        .distinct()
    ).all()
    desafios = sorted({(d, t) for d, t, _y in rows if d is not None}, key=lambda r: r[1])
    years = sorted({y for _d, _t, y in rows if y is not None}, reverse=True)
    return {"desafios": desafios, "years": years}


def all_published(limit: int | None = None) -> list[Sistematizacion]:
    stmt = (
        sa.select(Sistematizacion)
        .where(Sistematizacion.status == EstadoSistematizacion.PUBLICADA)
        .order_by(Sistematizacion.published_at.desc(), Sistematizacion.id.desc())
    )
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def adopter_label(sheet: Sistematizacion) -> str:
    names = [ADOPTERS.get(sheet.adopter, ""), sheet.adopter_other]
    return "; ".join(n for n in names if n)


def open_data_row(sheet: Sistematizacion) -> dict[str, Any]:
    """A published sheet as open data: the pilot's title (never people's names or contact data)."""
    snap = sheet.snapshot or {}

    def pct(name: str) -> str | None:
        figure = shown_figure(snap.get(name))
        return None if figure.percent is None else str(figure.percent)

    spending = shown_figure(snap.get("spending_per_beneficiary")).value
    return {
        "id": sheet.id,
        "url": external_url("aprendizaje_public.ficha", sistematizacion_id=sheet.id),
        "titulo": sheet.title,
        "desafio": sheet.desafio_title,
        "region": sheet.region or "",
        "region_nombre": chile.region_name(sheet.region, default="") if sheet.region else "",
        "anio": sheet.year,
        "grupos": [str(GRUPOS[g]) for g in sheet.group_keys if g in GRUPOS],
        "resultado": str(OUTCOMES[sheet.outcome.value]) if sheet.outcome else "",
        "adoptante": adopter_label(sheet),
        "problema": sheet.problem,
        "solucion": sheet.solution,
        "resultados": sheet.results,
        "aprendizajes": sheet.learnings,
        "condiciones_escalamiento": sheet.scaling_conditions,
        "publicada": sheet.published_at.isoformat() if sheet.published_at else None,
        "monto_adjudicado": snap.get("awarded"),
        "monto_ejecutado": snap.get("executed"),
        "beneficiarios_planificados": snap.get("planned_beneficiaries"),
        "beneficiarios_alcanzados": snap.get("reached"),
        "cobertura_pct": pct("coverage"),
        "ejecucion_presupuestaria_pct": pct("budget_execution"),
        "gasto_por_beneficiario": None if spending is None else str(spending.quantize(Decimal(1))),
        "indicadores": [
            {k: raw.get(k) for k in ("name", "unit", "baseline", "target", "actual")}
            for raw in snap.get("indicators") or []
        ],
    }


# --- subscriptions -----------------------------------------------------------------------------------------

CONFIRM_MAX_AGE = 7 * 24 * 3600


def topic_choices() -> list[tuple[str, str]]:
    return [(f"grupo:{k}", str(v)) for k, v in GRUPOS.items()] + [
        (f"region:{code}", topic_label(TipoSuscripcion.REGION, code))
        for code, _name in chile.region_choices()
    ]


def parse_topic(topic: str) -> tuple[TipoSuscripcion, str] | None:
    kind, _sep, value = (topic or "").partition(":")
    if kind == TipoSuscripcion.GRUPO.value and value in GRUPOS:
        return TipoSuscripcion.GRUPO, value
    if kind == TipoSuscripcion.REGION.value and value in chile.REGIONS_BY_CODE:
        return TipoSuscripcion.REGION, value
    return None


def topic_label(kind: TipoSuscripcion | str, value: str) -> str:
    if str(kind) == TipoSuscripcion.GRUPO.value:
        return str(GRUPOS.get(value, value))
    return _("Region: %(name)s", name=chile.region_name(value, default=value))


def _confirm_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="aprendizaje-suscripcion")


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="aprendizaje-baja")


def _email_tag(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:10]


def unsubscribe_url(subscription: SuscripcionAprendizaje) -> str:
    token = _unsubscribe_serializer().dumps({"s": subscription.id, "e": _email_tag(subscription.email)})
    return external_url("aprendizaje_public.unsubscribe", token=token)


def subscribe(email: str, topic: str) -> SuscripcionAprendizaje:
    """Record the wish and e-mail the confirmation link (again, when not yet confirmed). The answer is the
    same whether or not the address was already subscribed: the page tells nobody who reads what."""
    parsed = parse_topic(topic)
    if parsed is None:
        raise FormacionError(_("Choose a vulnerable group or a region."))
    kind, value = parsed
    email = (email or "").strip().lower()
    subscription = db.session.scalar(
        sa.select(SuscripcionAprendizaje).where(
            SuscripcionAprendizaje.email == email,
            SuscripcionAprendizaje.kind == kind,
            SuscripcionAprendizaje.value == value,
        )
    )
    if subscription is None:
        subscription = SuscripcionAprendizaje(email=email, kind=kind, value=value)
        db.session.add(subscription)
        db.session.flush()
    if subscription.confirmed_at is None:
        token = _confirm_serializer().dumps({"s": subscription.id})
        send_email(
            email,
            _l("Confirm your subscription to the learning repository"),
            "aprendizaje_confirmar",
            topic=topic_label(kind, value),
            link=external_url("aprendizaje_public.confirm", token=token),
            unsubscribe=unsubscribe_url(subscription),
        )
    return subscription


def _load(serializer: Any, token: str, **kwargs: Any) -> SuscripcionAprendizaje | None:
    try:
        payload = serializer.loads(token, **kwargs)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        return None
    return db.session.get(SuscripcionAprendizaje, payload["s"])


def subscription_to_confirm(token: str) -> SuscripcionAprendizaje | None:
    return _load(_confirm_serializer(), token, max_age=CONFIRM_MAX_AGE)


def subscription_to_cancel(token: str) -> SuscripcionAprendizaje | None:
    subscription = _load(_unsubscribe_serializer(), token)
    if subscription is None:
        return None
    try:
        payload = _unsubscribe_serializer().loads(token)
    except BadSignature:
        return None
    # The token names the row's address too: a new row that reuses a deleted id is not someone else's.
    return subscription if payload.get("e") == _email_tag(subscription.email) else None


def confirm(subscription: SuscripcionAprendizaje) -> None:
    if subscription.confirmed_at is None:
        subscription.confirmed_at = chile.utcnow()


def unsubscribe(subscription: SuscripcionAprendizaje) -> None:
    db.session.delete(subscription)


def send_digest(now: datetime | None = None) -> int:
    """Job (`flask send-reminders`): the sheets published since the last digest, one e-mail per confirmed
    address with those of its groups and regions. Each sheet is claimed once: a rerun sends nothing."""
    now = now or chile.utcnow()
    candidates = db.session.scalars(
        sa.select(Sistematizacion.id).where(
            Sistematizacion.status == EstadoSistematizacion.PUBLICADA, Sistematizacion.digested_at.is_(None)
        )
    ).all()
    claimed = []
    for sheet_id in candidates:
        done = db.session.execute(
            sa.update(Sistematizacion)
            .where(Sistematizacion.id == sheet_id, Sistematizacion.digested_at.is_(None))
            .values(digested_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done:
            claimed.append(sheet_id)
    if not claimed:
        return 0
    sheets = list(
        db.session.scalars(
            sa.select(Sistematizacion).where(Sistematizacion.id.in_(claimed)).order_by(Sistematizacion.id)
        )
    )
    by_email: dict[str, list[SuscripcionAprendizaje]] = {}
    for subscription in db.session.scalars(
        sa.select(SuscripcionAprendizaje)
        .where(SuscripcionAprendizaje.confirmed_at.is_not(None))
        .order_by(SuscripcionAprendizaje.id)
    ):
        by_email.setdefault(subscription.email, []).append(subscription)
    sent = 0
    with force_locale("es_CL"):  # a job: no visitor's language (the subscribers' is Spanish)
        for email, subscriptions in by_email.items():
            matching = [
                s
                for s in sheets
                if any(
                    (sub.kind == TipoSuscripcion.GRUPO and sub.value in s.group_keys)
                    or (sub.kind == TipoSuscripcion.REGION and sub.value == s.region)
                    for sub in subscriptions
                )
            ]
            if not matching:
                continue
            send_email(
                email,
                _l("New learning from Fondo IDEA pilots"),
                "aprendizaje_digest",
                sheets=[
                    (s.title, external_url("aprendizaje_public.ficha", sistematizacion_id=s.id))
                    for s in matching
                ],
                subscriptions=[
                    (topic_label(sub.kind, sub.value), unsubscribe_url(sub)) for sub in subscriptions
                ],
            )
            sent += 1
    return sent
