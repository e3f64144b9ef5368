"""Operations on calls, their challenges and their phases (the admin side).

Every operation takes the actor explicitly, never commits (the request, CLI or job does), records an audit
event and raises ConvocatoriaError with Spanish-ready messages when the change is refused. Submission
operations live in convocatorias/postulaciones.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from convocatorias import lead_queries
from convocatorias.admisibilidad_models import add_default_requisitos
from convocatorias.models import (
    FASE_TRANSICIONES,
    Convocatoria,
    Desafio,
    DesafioRegion,
    Fase,
    GrupoVulnerable,
    IndicadorLineaBase,
    Postulacion,
)
from convocatorias.queries import fase_label
from idea import audit, chile
from idea.extensions import db
from idea.models import User

# --- vocabulary --------------------------------------------------------------------------------------

# The phase dates in the order they must follow, with their labels.
PHASE_DATES: tuple[tuple[str, Any], ...] = (
    ("submissions_open_at", _l("Submissions open")),
    ("submissions_close_at", _l("Submission deadline")),
    ("admissibility_end_at", _l("Admissibility ends")),
    ("evaluation_end_at", _l("Evaluation ends")),
    ("vote_open_at", _l("Public vote opens")),
    ("vote_close_at", _l("Public vote closes")),
    ("committee_at", _l("Committee session")),
    ("training_start_at", _l("Training starts")),
    ("execution_start_at", _l("Pilot execution starts")),
    ("closing_at", _l("Closing")),
)
PHASE_DATE_LABELS: dict[str, Any] = dict(PHASE_DATES)

MONEY_FIELDS = ("total_budget", "min_amount", "max_amount", "max_submissions_per_org", "vote_weight")
TEXT_FIELDS = ("title", "year", "summary", "description", "rules")
EDITABLE_FIELDS: tuple[str, ...] = TEXT_FIELDS + MONEY_FIELDS + tuple(name for name, _label in PHASE_DATES)
# Changing these after publication changes the rules applicants rely on: the view warns, the audit keeps both.
RULE_FIELDS: frozenset[str] = frozenset(MONEY_FIELDS + ("submissions_open_at", "submissions_close_at"))
AUDIT_FIELDS: tuple[str, ...] = ("slug", *EDITABLE_FIELDS, "fase", "published_at")

# Other packages may veto a phase change (e.g. "scoring is not complete"): a receiver of
# `fase_change_requested` gets (convocatoria, target=Fase) and returns a message to refuse, or None.
# `fase_changed` is sent after a call moved (publication included), with before= and after=.
signals = Namespace()
fase_change_requested = signals.signal("fase-change-requested")
fase_changed = signals.signal("fase-changed")


# --- errors ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One reason a change was refused, tied to a form field when there is one."""

    message: str
    field: str | None = None


class ConvocatoriaError(ValueError):
    """A refused change, with one or more messages meant for the user."""

    def __init__(self, message: str | None = None, field: str | None = None, *,
                 problems: list[Problem] | None = None) -> None:
        self.problems = list(problems or []) or [Problem(message or "", field)]
        self.message = self.problems[0].message
        self.field = self.problems[0].field
        super().__init__(self.message)


# --- input data --------------------------------------------------------------------------------------

@dataclass
class ConvocatoriaData:
    """The editable fields of a call; amounts in whole pesos, dates aware UTC."""

    title: str
    year: int
    total_budget: int
    min_amount: int
    max_amount: int
    summary: str = ""
    description: str = ""
    rules: str = ""
    max_submissions_per_org: int = 1
    vote_weight: int = 10
    submissions_open_at: datetime | None = None
    submissions_close_at: datetime | None = None
    admissibility_end_at: datetime | None = None
    evaluation_end_at: datetime | None = None
    vote_open_at: datetime | None = None
    vote_close_at: datetime | None = None
    committee_at: datetime | None = None
    training_start_at: datetime | None = None
    execution_start_at: datetime | None = None
    closing_at: datetime | None = None


@dataclass
class IndicadorData:
    """One baseline indicator row: what is measured today, in which unit, by whom, when."""

    name: str
    unit: str
    value: Decimal
    source: str
    measured_on: date | None = None


@dataclass
class DesafioData:
    """The editable fields of a challenge; `regions` only count when the challenge is not national."""

    title: str
    problem: str = ""
    grupo_vulnerable_id: int | None = None
    partner_institution: str | None = None
    is_national: bool = True
    regions: list[str] = field(default_factory=list)
    indicators: list[IndicadorData] = field(default_factory=list)


# --- permissions -------------------------------------------------------------------------------------

def can_view_admin(user: Any, convocatoria: Convocatoria) -> bool:
    """Whether `user` may see the admin pages of this call: whoever may open its submissions as technical
    lead (admins, and technical leads bound to this call or to none)."""
    return bool(getattr(user, "is_authenticated", False)) and lead_queries.can_view_call(user, convocatoria)


def can_manage(user: Any, convocatoria: Convocatoria | None = None) -> bool:
    """Whether `user` may create and change calls, challenges and phases (admins only)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_admin)


def visible_calls_stmt(user: User) -> sa.Select[tuple[Convocatoria]]:
    """The calls `user` may see in the admin list, newest first: every call for an admin, otherwise those
    of the technical lead's scope."""
    stmt = sa.select(Convocatoria).order_by(*lead_queries.NEWEST_FIRST)
    return stmt if user.is_admin else stmt.where(lead_queries.visible_calls_clause(user))


# --- calls -------------------------------------------------------------------------------------------

def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def unique_slug(title: str, year: int, *, exclude_id: int | None = None) -> str:
    """A slug for the call's URL from its title and year, unique among calls (-2, -3… when taken)."""
    base = slugify(title)[:100].strip("-") or "convocatoria"
    if not base.endswith(str(year)):
        base = f"{base}-{year}"
    stmt = sa.select(Convocatoria.slug).where(
        sa.or_(Convocatoria.slug == base, Convocatoria.slug.like(f"{base}-%")))
    if exclude_id is not None:
        stmt = stmt.where(Convocatoria.id != exclude_id)
    taken = set(db.session.scalars(stmt))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _data_problems(data: ConvocatoriaData) -> list[Problem]:
    problems = []
    if not data.title.strip():
        problems.append(Problem(_("Enter a title."), "title"))
    if not 2000 <= data.year <= 2100:
        problems.append(Problem(_("Enter a year between 2000 and 2100."), "year"))
    for name in ("total_budget", "min_amount", "max_amount"):
        if getattr(data, name) < 0:
            problems.append(Problem(_("Enter an amount of zero or more."), name))
    if data.min_amount > data.max_amount:
        problems.append(Problem(_("The minimum amount per project cannot be greater than the maximum."),
                                "min_amount"))
    if data.max_submissions_per_org < 1:
        problems.append(Problem(_("Each organisation must be allowed at least one submission."),
                                "max_submissions_per_org"))
    if not 0 <= data.vote_weight <= 100:
        problems.append(Problem(_("The vote weight is a percentage between 0 and 100."), "vote_weight"))
    for name, _label in PHASE_DATES:
        value = getattr(data, name)
        if value is not None and value.tzinfo is None:
            raise TypeError(f"{name} must be an aware datetime")
    return problems


def _apply(convocatoria: Convocatoria, data: ConvocatoriaData) -> None:
    for name in EDITABLE_FIELDS:
        value = getattr(data, name)
        if isinstance(value, str):
            value = value.strip()
        setattr(convocatoria, name, value)


def create_convocatoria(actor: User, data: ConvocatoriaData) -> Convocatoria:
    """Create a call in phase borrador, with a unique slug from its title and year."""
    problems = _data_problems(data)
    if problems:
        raise ConvocatoriaError(problems=problems)
    convocatoria = Convocatoria(fase=Fase.BORRADOR, created_by_id=actor.id)
    _apply(convocatoria, data)
    convocatoria.slug = unique_slug(convocatoria.title, convocatoria.year)
    db.session.add(convocatoria)
    add_default_requisitos(convocatoria)
    db.session.flush()
    audit.record(actor, "convocatoria.created", convocatoria,
                 after=audit.snapshot(convocatoria, AUDIT_FIELDS))
    return convocatoria


def update_convocatoria(actor: User, convocatoria: Convocatoria, data: ConvocatoriaData) -> list[str]:
    """Change a call's texts, money rules and dates; returns the names of the fields that changed.

    A published call keeps its URL and must stay coherent (the publication rules on money and dates still
    hold); every change is audited with the values before and after.
    """
    problems = _data_problems(data)
    if not problems and convocatoria.is_published:
        problems = _money_problems(data) + _date_problems(data)
    if problems:
        raise ConvocatoriaError(problems=problems)
    before = audit.snapshot(convocatoria, AUDIT_FIELDS)
    _apply(convocatoria, data)
    renamed = (before["title"], before["year"]) != (convocatoria.title, convocatoria.year)
    if renamed and not convocatoria.is_published:
        convocatoria.slug = unique_slug(convocatoria.title, convocatoria.year, exclude_id=convocatoria.id)
    after = audit.snapshot(convocatoria, AUDIT_FIELDS)
    changed = [name for name in AUDIT_FIELDS if before[name] != after[name]]
    if changed:
        audit.record(actor, "convocatoria.updated", convocatoria,
                     before={name: before[name] for name in changed},
                     after={name: after[name] for name in changed})
    return changed


# --- publication and phases --------------------------------------------------------------------------

def _money_problems(c: Convocatoria | ConvocatoriaData) -> list[Problem]:
    problems = []
    if not c.total_budget or c.total_budget <= 0:
        problems.append(Problem(_("The total budget must be greater than zero."), "total_budget"))
    if not c.min_amount or c.min_amount <= 0:
        problems.append(Problem(_("The minimum amount per project must be greater than zero."), "min_amount"))
    if c.min_amount is not None and c.max_amount is not None and c.min_amount > c.max_amount:
        problems.append(Problem(_("The minimum amount per project cannot be greater than the maximum."),
                                "min_amount"))
    if c.max_amount is not None and c.total_budget is not None and c.max_amount > c.total_budget:
        problems.append(Problem(_("The maximum amount per project cannot be greater than the total budget."),
                                "max_amount"))
    if c.max_submissions_per_org is None or c.max_submissions_per_org < 1:
        problems.append(Problem(_("Each organisation must be allowed at least one submission."),
                                "max_submissions_per_org"))
    return problems


def _date_problems(c: Convocatoria | ConvocatoriaData) -> list[Problem]:
    problems = []
    if c.submissions_open_at is None:
        problems.append(Problem(_("Set the date submissions open."), "submissions_open_at"))
    if c.submissions_close_at is None:
        problems.append(Problem(_("Set the submission deadline."), "submissions_close_at"))
    previous: tuple[str, datetime] | None = None
    for name, _label in PHASE_DATES:
        value = getattr(c, name)
        if value is None:
            continue
        if previous is not None and value <= previous[1]:
            problems.append(Problem(
                _("The date “%(later)s” must come after “%(earlier)s”.",
                  later=PHASE_DATE_LABELS[name], earlier=PHASE_DATE_LABELS[previous[0]]), name))
        else:
            previous = (name, value)
    return problems


def _desafio_problems(d: Desafio) -> list[Problem]:
    problems = []
    if not (d.problem or "").strip():
        problems.append(Problem(_("The challenge “%(title)s” has no problem statement.", title=d.title)))
    if not d.indicadores:
        problems.append(Problem(_("The challenge “%(title)s” needs at least one baseline indicator.",
                                  title=d.title)))
    return problems


def publication_problems(convocatoria: Convocatoria) -> list[Problem]:
    """Everything that stops the call from being published (empty when it is ready)."""
    if convocatoria.is_published or convocatoria.fase != Fase.BORRADOR:
        return [Problem(_("This call is already published."))]
    problems = []
    if not convocatoria.desafios:
        problems.append(Problem(_("Add at least one challenge before publishing.")))
    for desafio in convocatoria.desafios:
        problems.extend(_desafio_problems(desafio))
    problems.extend(_date_problems(convocatoria))
    close = convocatoria.submissions_close_at
    if close is not None and close <= chile.utcnow():
        problems.append(Problem(_("The submission deadline has already passed."), "submissions_close_at"))
    problems.extend(_money_problems(convocatoria))
    return problems


def publish_convocatoria(actor: User, convocatoria: Convocatoria) -> None:
    """Make a draft call public: it moves from borrador to postulacion when every guard passes."""
    problems = publication_problems(convocatoria)
    if problems:
        raise ConvocatoriaError(problems=problems)
    before = audit.snapshot(convocatoria, ("fase", "published_at"))
    convocatoria.published_at = chile.utcnow()
    convocatoria.fase = Fase.POSTULACION
    db.session.flush()
    after = audit.snapshot(convocatoria, ("fase", "published_at"))
    audit.record(actor, "convocatoria.published", convocatoria, before=before, after=after)
    fase_changed.send(convocatoria, actor=actor, before=Fase.BORRADOR, after=Fase.POSTULACION)


def next_fase(convocatoria: Convocatoria) -> Fase | None:
    """The only phase the call may move to next, or None in the last phase."""
    targets = FASE_TRANSICIONES[convocatoria.fase]
    return targets[0] if targets else None


def _fase_problems(convocatoria: Convocatoria, target: Fase) -> list[Problem]:
    current = convocatoria.fase
    if target not in FASE_TRANSICIONES[current]:
        following = next_fase(convocatoria)
        if following is None:
            return [Problem(_("This call is in its last phase."))]
        return [Problem(_("A call moves forward one phase at a time: from “%(current)s” it can only go to "
                          "“%(next)s”.", current=fase_label(current), next=fase_label(following)))]
    problems = []
    if current == Fase.POSTULACION:
        close = convocatoria.submissions_close_at
        if close is None or chile.utcnow() <= close:
            problems.append(Problem(_(
                "Submissions are open until %(deadline)s; the call can leave this phase only after the "
                "deadline.", deadline=chile.format_datetime_es(close) if close else "—")))
    for _receiver, message in fase_change_requested.send(convocatoria, target=target):
        if message:
            problems.append(Problem(str(message)))
    return problems


def change_fase(actor: User, convocatoria: Convocatoria, target: Fase | str) -> None:
    """Move the call one phase forward (from borrador this is publishing, with its guards)."""
    try:
        target = Fase(target)
    except ValueError as exc:
        raise ConvocatoriaError(_("Unknown phase.")) from exc
    if convocatoria.fase == Fase.BORRADOR and target == Fase.POSTULACION:
        publish_convocatoria(actor, convocatoria)
        return
    problems = _fase_problems(convocatoria, target)
    if problems:
        raise ConvocatoriaError(problems=problems)
    before = convocatoria.fase
    convocatoria.fase = target
    db.session.flush()
    audit.record(actor, "convocatoria.fase_changed", convocatoria,
                 before={"fase": before}, after={"fase": target})
    fase_changed.send(convocatoria, actor=actor, before=before, after=target)


# --- challenges --------------------------------------------------------------------------------------

def desafio_snapshot(desafio: Desafio) -> dict[str, Any]:
    data = audit.snapshot(desafio, ("convocatoria_id", "title", "problem", "grupo_vulnerable_id",
                                    "partner_institution", "is_national"))
    data["regions"] = desafio.region_codes
    data["indicators"] = [
        audit.snapshot(i, ("name", "unit", "value", "source", "measured_on")) for i in desafio.indicadores
    ]
    return data


def _check_desafio(convocatoria: Convocatoria, data: DesafioData, current: Desafio | None) -> None:
    problems = []
    if not data.title.strip():
        problems.append(Problem(_("Enter a title."), "title"))
    if data.grupo_vulnerable_id is not None:
        grupo = db.session.get(GrupoVulnerable, data.grupo_vulnerable_id)
        keeps_current = current is not None and current.grupo_vulnerable_id == data.grupo_vulnerable_id
        if grupo is None or not (grupo.active or keeps_current):
            problems.append(Problem(_("Choose a vulnerable group from the list."), "grupo_vulnerable_id"))
    if not data.is_national:
        if not data.regions:
            problems.append(Problem(_("Choose at least one region, or mark the challenge as national."),
                                    "regions"))
        elif any(code not in chile.REGIONS_BY_CODE for code in data.regions):
            problems.append(Problem(_("Choose regions from the list."), "regions"))
    if convocatoria.is_published:
        # A public challenge must stay as complete as it was when the call was published.
        if not data.problem.strip():
            problems.append(Problem(_("A challenge of a published call needs a problem statement."),
                                    "problem"))
        if not data.indicators:
            problems.append(Problem(
                _("A challenge of a published call needs at least one baseline indicator."), "indicadores"))
    if problems:
        raise ConvocatoriaError(problems=problems)


def _apply_desafio(desafio: Desafio, data: DesafioData) -> None:
    desafio.title = data.title.strip()
    desafio.problem = data.problem.strip()
    desafio.grupo_vulnerable_id = data.grupo_vulnerable_id
    desafio.partner_institution = (data.partner_institution or "").strip() or None
    desafio.is_national = data.is_national
    wanted = [] if data.is_national else sorted(set(data.regions))
    for row in list(desafio.regiones):
        if row.region not in wanted:
            desafio.regiones.remove(row)
    existing = {row.region for row in desafio.regiones}
    for code in wanted:
        if code not in existing:
            desafio.regiones.append(DesafioRegion(region=code))
    # Rows are matched by position: kept rows are updated in place, extra ones removed, new ones added.
    rows = list(desafio.indicadores)
    for position, item in enumerate(data.indicators):
        row = rows[position] if position < len(rows) else IndicadorLineaBase()
        row.position = position
        row.name, row.unit, row.source = item.name.strip(), item.unit.strip(), item.source.strip()
        row.value = item.value
        row.measured_on = item.measured_on
        if position >= len(rows):
            desafio.indicadores.append(row)
    for row in rows[len(data.indicators):]:
        desafio.indicadores.remove(row)


def create_desafio(actor: User, convocatoria: Convocatoria, data: DesafioData) -> Desafio:
    """Add a challenge at the end of the call's list."""
    _check_desafio(convocatoria, data, None)
    last = max((d.position for d in convocatoria.desafios), default=0)
    desafio = Desafio(position=last + 1)
    _apply_desafio(desafio, data)
    convocatoria.desafios.append(desafio)
    db.session.flush()
    audit.record(actor, "desafio.created", desafio, after=desafio_snapshot(desafio))
    return desafio


def update_desafio(actor: User, desafio: Desafio, data: DesafioData) -> bool:
    """Change a challenge, its scope and its baseline indicators; returns whether anything changed."""
    _check_desafio(desafio.convocatoria, data, desafio)
    before = desafio_snapshot(desafio)
    _apply_desafio(desafio, data)
    db.session.flush()
    after = desafio_snapshot(desafio)
    if before == after:
        return False
    audit.record(actor, "desafio.updated", desafio, before=before, after=after)
    return True


def delete_desafio(actor: User, desafio: Desafio) -> None:
    """Remove a challenge, only while its call is still a draft."""
    convocatoria = desafio.convocatoria
    if convocatoria.fase != Fase.BORRADOR or convocatoria.is_published:
        raise ConvocatoriaError(_("A challenge can only be deleted while the call is a draft."))
    has_submissions = db.session.scalar(
        sa.select(sa.func.count()).select_from(Postulacion).where(Postulacion.desafio_id == desafio.id))
    if has_submissions:
        raise ConvocatoriaError(_("This challenge has submissions and cannot be deleted."))
    before = desafio_snapshot(desafio)
    desafio_id = desafio.id
    convocatoria.desafios.remove(desafio)
    db.session.flush()
    audit.record(actor, "desafio.deleted", object_type="Desafio", object_id=desafio_id, before=before)
