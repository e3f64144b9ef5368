"""Read-side helpers of the public call pages: published calls, their challenges, timeline and deadline.

Public pages only ever see published calls (`published_at` set and past the draft phase). Each helper loads
what its page shows in a fixed number of queries, whatever the number of challenges, and never reads the
submissions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import contains_eager, selectinload
from sqlalchemy.sql.elements import ColumnElement

from convocatorias.models import FASES_ORDEN, Convocatoria, Desafio, Fase
from idea import chile
from idea.extensions import db

# The applicant area is another blueprint; its "new submission" page is linked by path.
SUBMIT_IDEA_PATH = "/mis-postulaciones/nueva"

# Submissions closing within this time are flagged as closing soon.
CLOSING_SOON = timedelta(hours=72)

# What each phase is called, on the public pages and in the admin alike.
FASE_LABELS: dict[Fase, Any] = {
    Fase.BORRADOR: _l("Preparation"),
    Fase.POSTULACION: _l("Submission period"),
    Fase.ADMISIBILIDAD: _l("Admissibility review"),
    Fase.EVALUACION: _l("Evaluation"),
    Fase.VOTACION: _l("Public vote"),
    Fase.COMITE: _l("Committee selection"),
    Fase.FORMACION: _l("Training and mentoring"),
    Fase.EJECUCION: _l("Pilot execution"),
    Fase.CIERRE: _l("Closing and learning"),
}

# The call's date columns that bound each phase: (start, end); None where the call has no such date.
FASE_FECHAS: dict[Fase, tuple[str | None, str | None]] = {
    Fase.POSTULACION: ("submissions_open_at", "submissions_close_at"),
    Fase.ADMISIBILIDAD: (None, "admissibility_end_at"),
    Fase.EVALUACION: (None, "evaluation_end_at"),
    Fase.VOTACION: ("vote_open_at", "vote_close_at"),
    Fase.COMITE: ("committee_at", None),
    Fase.FORMACION: ("training_start_at", None),
    Fase.EJECUCION: ("execution_start_at", None),
    Fase.CIERRE: ("closing_at", None),
}

# Phases whose dates are shown with the hour (a window the public acts in), the others by day.
FASES_CON_HORA = frozenset({Fase.POSTULACION, Fase.VOTACION})


def fase_label(fase: Fase | str) -> str:
    return str(FASE_LABELS[Fase(fase)])


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------


def is_public() -> ColumnElement[bool]:
    """The condition a call meets when visitors may see it: published and out of the draft phase."""
    return sa.and_(Convocatoria.published_at.is_not(None), Convocatoria.fase != Fase.BORRADOR)


def desafio_loaders() -> list[Any]:
    """Loader options for a call's challenges with what their cards show (one query per relation)."""
    desafios = selectinload(Convocatoria.desafios)
    return [
        desafios.selectinload(Desafio.regiones),
        desafios.selectinload(Desafio.grupo_vulnerable),
        desafios.selectinload(Desafio.indicadores),
    ]


@dataclass(frozen=True)
class CallItem:
    """A call as listed on the home page, with its number of challenges and its deadline status."""

    convocatoria: Convocatoria
    desafio_count: int
    plazo: Plazo


@dataclass(frozen=True)
class HomeCalls:
    open: list[CallItem]
    others: list[CallItem]


def public_calls() -> list[tuple[Convocatoria, int]]:
    """Every public call with its number of challenges, in one query: open ones first, by deadline."""
    desafio_count = (
        sa.select(sa.func.count(Desafio.id))
        .where(Desafio.convocatoria_id == Convocatoria.id)
        .correlate(Convocatoria)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Convocatoria, desafio_count)
        .where(is_public())
        .order_by(
            sa.case((Convocatoria.fase == Fase.POSTULACION, 0), else_=1),
            Convocatoria.year.desc(),
            Convocatoria.submissions_close_at.asc(),
            Convocatoria.id.desc(),
        )
    ).all()
    return [(convocatoria, count or 0) for convocatoria, count in rows]


def home_calls(now: datetime | None = None) -> HomeCalls:
    """The home page's calls: those taking submissions (phase postulacion) and the other public ones."""
    now = now or chile.utcnow()
    open_items: list[CallItem] = []
    others: list[CallItem] = []
    for convocatoria, count in public_calls():
        item = CallItem(convocatoria, count, deadline_status(convocatoria, now))
        (open_items if convocatoria.fase == Fase.POSTULACION else others).append(item)
    open_items.sort(key=lambda item: (item.convocatoria.submissions_close_at is None,
                                      item.convocatoria.submissions_close_at or now))
    return HomeCalls(open=open_items, others=others)


def open_calls() -> list[Convocatoria]:
    """The public calls in the submission phase, soonest deadline first."""
    return list(db.session.scalars(
        sa.select(Convocatoria)
        .where(is_public(), Convocatoria.fase == Fase.POSTULACION)
        .order_by(Convocatoria.submissions_close_at.asc(), Convocatoria.id)
    ))


def published_call_by_slug(slug: str) -> Convocatoria | None:
    """A public call with its challenges, their regions, groups and baseline indicators (5 queries)."""
    return db.session.scalars(
        sa.select(Convocatoria).where(Convocatoria.slug == slug, is_public()).options(*desafio_loaders())
    ).first()


def published_desafio(slug: str, desafio_id: int) -> Desafio | None:
    """A challenge of a public call, with its call, regions, group and baseline indicators."""
    return db.session.scalars(
        sa.select(Desafio)
        .join(Desafio.convocatoria)
        .where(Desafio.id == desafio_id, Convocatoria.slug == slug, is_public())
        .options(
            contains_eager(Desafio.convocatoria),
            selectinload(Desafio.regiones),
            selectinload(Desafio.grupo_vulnerable),
            selectinload(Desafio.indicadores),
        )
    ).first()


def submit_idea_url(convocatoria: Convocatoria, desafio: Desafio | None = None) -> str:
    """The applicant area's page to start a submission to this call (and challenge)."""
    params: dict[str, int] = {"convocatoria": convocatoria.id}
    if desafio is not None:
        params["desafio"] = desafio.id
    return f"{SUBMIT_IDEA_PATH}?{urlencode(params)}"


# ---------------------------------------------------------------------------
# Deadline and timeline, in Chilean time
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plazo:
    """Where a call's submission window stands at a moment; `text` says so in the current language.

    state is "upcoming" (not open yet), "open", "closed" or "none" (no deadline set).
    """

    state: str
    now: datetime
    closes_at: datetime | None = None
    opens_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def closing_soon(self) -> bool:
        return self.is_open and self.closes_at is not None and self.closes_at - self.now <= CLOSING_SOON

    @property
    def text(self) -> str:
        # Worded on use, not when computed, so the helpers that build it need no request or locale.
        if self.state == "none":
            return _("The deadline has not been set yet")
        if self.state == "upcoming":
            if self.opens_at is None:
                return _("Not open yet")
            return _("Opens on %(date)s", date=chile.format_datetime_es(self.opens_at))
        if self.state == "closed" or self.closes_at is None:
            return _("Closed")
        return time_left_text(self.closes_at, self.now)


def time_left_text(closes_at: datetime, now: datetime) -> str:
    """How long until `closes_at`, said as on a Chilean wall clock: "12 days and 4 hours left",
    "closes today at 23:59", "closes tomorrow at 23:59" or "closed"."""
    if now > closes_at:
        return _("Closed")
    close_local = chile.to_santiago(closes_at)
    now_local = chile.to_santiago(now)
    time = f"{close_local:%H:%M}"
    days_apart = (close_local.date() - now_local.date()).days
    if days_apart == 0:
        return _("Closes today at %(time)s", time=time)
    if days_apart == 1:
        return _("Closes tomorrow at %(time)s", time=time)
    # Wall-clock difference, so a daylight-saving change in between does not shift the hours shown.
    left = close_local.replace(tzinfo=None) - now_local.replace(tzinfo=None)
    days, hours = left.days, left.seconds // 3600
    if hours == 0:
        return ngettext("%(num)d day left", "%(num)d days left", days)
    # One plural per message: the sentence follows the days, the hours come as a counted noun.
    hours_text = ngettext("%(num)d hour", "%(num)d hours", hours)
    return ngettext("%(num)d day and %(hours)s left", "%(num)d days and %(hours)s left", days,
                    hours=hours_text)


def deadline_status(convocatoria: Convocatoria, now: datetime | None = None) -> Plazo:
    """The state of the call's submission window at `now` (default: the current time)."""
    now = now or chile.utcnow()
    closes_at = convocatoria.submissions_close_at
    opens_at = convocatoria.submissions_open_at
    if FASES_ORDEN.index(convocatoria.fase) > FASES_ORDEN.index(Fase.POSTULACION):
        state = "closed"
    elif closes_at is None:
        state = "none"
    elif convocatoria.fase != Fase.POSTULACION or (opens_at is not None and now < opens_at):
        state = "upcoming"
    elif now > closes_at:
        state = "closed"
    else:
        state = "open"
    return Plazo(state, now, closes_at, opens_at)


@dataclass(frozen=True)
class Etapa:
    """One phase of a call's timeline: its dates and whether it is past, current or still to come."""

    fase: Fase
    label: str
    starts_at: datetime | None
    ends_at: datetime | None
    state: str  # "done", "current" or "upcoming"
    with_time: bool

    @property
    def is_current(self) -> bool:
        return self.state == "current"

    @property
    def is_done(self) -> bool:
        return self.state == "done"


def timeline(convocatoria: Convocatoria) -> list[Etapa]:
    """The call's public phases in order (the draft phase is internal and left out)."""
    current = FASES_ORDEN.index(convocatoria.fase)
    etapas = []
    for index, fase in enumerate(FASES_ORDEN):
        if fase == Fase.BORRADOR:
            continue
        start_attr, end_attr = FASE_FECHAS[fase]
        state = "done" if index < current else "current" if index == current else "upcoming"
        etapas.append(Etapa(
            fase=fase,
            label=fase_label(fase),
            starts_at=getattr(convocatoria, start_attr) if start_attr else None,
            ends_at=getattr(convocatoria, end_attr) if end_attr else None,
            state=state,
            with_time=fase in FASES_CON_HORA,
        ))
    return etapas


# ---------------------------------------------------------------------------
# Text and number formats for the templates (registered as Jinja filters by the public blueprint)
# ---------------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def paragraphs(text: str | None) -> list[list[str]]:
    """Split text into paragraphs at blank lines, each paragraph a list of its lines (plain strings:
    the template escapes them and puts each paragraph in a <p>)."""
    if not text:
        return []
    normalized = str(text).replace("\r\n", "\n").replace("\r", "\n")
    result = []
    for block in _BLANK_LINE.split(normalized):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if lines:
            result.append(lines)
    return result


def format_decimal_es(value: Decimal | float | int | None) -> str:
    """A number with a decimal comma, dots between thousands and no useless zeros: 1234.50 -> '1.234,5'."""
    if value is None:
        return ""
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
        number = number.quantize(Decimal("0.0001"))
    except (InvalidOperation, ValueError):
        return str(value)
    sign = "-" if number < 0 else ""
    whole, _sep, fraction = f"{abs(number):f}".partition(".")
    fraction = fraction.rstrip("0")
    grouped = f"{int(whole):,}".replace(",", ".")
    if fraction:
        return f"{sign}{grouped},{fraction}"
    return f"{sign}{grouped}" if grouped != "0" else "0"


def region_names(codes: list[str]) -> list[str]:
    """Region names from codes, north to south."""
    order = {region.code: i for i, region in enumerate(chile.REGIONS)}
    return [chile.region_name(code, default=code) for code in sorted(codes, key=lambda c: order.get(c, 99))]
