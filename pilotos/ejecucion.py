"""Operations of the execution phase (ejecución): starting the pilots of the awarded teams, the call's
execution settings, a pilot's planned beneficiaries and milestones, the team's progress reports (one
validation, saved whole as a draft or sent), their evidence files, the lead's review (approve, or send back
with a comment; approving the final report closes the pilot) and the late-report rule.

Each operation takes the actor explicitly, never commits and records an audit event; a refusal raises
pilotos.operations.FormacionError with every message at once, before anything is written.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask_babel import LazyString, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from convocatorias import uploads
from convocatorias.models import Convocatoria, Fase
from convocatorias.operations import fase_changed
from idea import audit, chile
from idea.chile import REGIONS_BY_CODE
from idea.extensions import db
from idea.mail import external_url
from idea.models import User
from pilotos import formulario as fops
from pilotos.avisos import notify_team
from pilotos.demoday_models import AdjudicacionDemoDay, ResultadoDemoDay
from pilotos.ejecucion_figures import PilotFigures, pilot_figures, to_decimal
from pilotos.ejecucion_models import (
    AccionReporte,
    ConfiguracionEjecucion,
    EstadoPiloto,
    EstadoReporte,
    EvidenciaReporte,
    HitoPiloto,
    Piloto,
    ReportePiloto,
    RevisionReporte,
    TipoReporte,
)
from pilotos.formulario_models import EstadoFormulario, FormularioCompleto
from pilotos.models import Equipo
from pilotos.operations import FormacionError

EDITABLE = (EstadoReporte.PENDIENTE, EstadoReporte.CON_OBSERVACIONES)
MAX_TEXT = 5000
MAX_PEOPLE = 10**7
MAX_EVIDENCE = 10
MAX_HITOS = 40
REMIND_EVERY = timedelta(days=7)

STATUS_LABELS = {
    "pendiente": _l("Not sent"),
    "enviado": _l("Sent, waiting for review"),
    "con_observaciones": _l("Sent back for changes"),
    "aprobado": _l("Approved"),
}
HISTORY_LABELS = {
    "enviado": _l("Sent by the team"),
    "observado": _l("Sent back for changes"),
    "aprobado": _l("Approved by the lead"),
}
PILOT_STATUS_LABELS = {
    "en_ejecucion": _l("In execution"),
    "cerrado": LazyString(lambda: pgettext("pilot status", "Closed")),  # masculine, unlike a demo day's
}
KIND_LABELS = {"avance": _l("Progress report"), "final": _l("Final report")}


# --- settings --------------------------------------------------------------------------------------------


def config_of(convocatoria: Convocatoria) -> ConfiguracionEjecucion:
    """The call's execution settings; the defaults (not saved) when the lead has not set them."""
    config = db.session.scalar(
        sa.select(ConfiguracionEjecucion).where(ConfiguracionEjecucion.convocatoria_id == convocatoria.id)
    )
    if config is None:
        config = ConfiguracionEjecucion(
            convocatoria_id=convocatoria.id,
            report_every_months=1,
            duration_months=6,
            grace_days=10,
            ask_sex_breakdown=True,
            ask_region_breakdown=False,
        )
    return config


@dataclass
class ConfigData:
    report_every_months: int | None
    duration_months: int | None
    grace_days: int | None
    ask_sex_breakdown: bool
    ask_region_breakdown: bool


def save_config(actor: User, convocatoria: Convocatoria, data: ConfigData) -> ConfiguracionEjecucion:
    """Save the call's execution settings (they apply to the pilots started afterwards)."""
    errors = []
    if data.report_every_months is None or not 1 <= data.report_every_months <= 12:
        errors.append(_("Reports every: a whole number of months from 1 to 12."))
    if data.duration_months is None or not 1 <= data.duration_months <= 36:
        errors.append(_("Duration: a whole number of months from 1 to 36."))
    if data.grace_days is None or not 0 <= data.grace_days <= 90:
        errors.append(_("Days to send a report: a whole number from 0 to 90."))
    if (
        not errors
        and data.report_every_months is not None
        and data.duration_months is not None
        and data.report_every_months > data.duration_months
    ):
        errors.append(_("A pilot must report at least once during its duration."))
    if errors:
        raise FormacionError(*errors)
    config = config_of(convocatoria)
    before = None
    if config.id is None:
        db.session.add(config)
    else:
        before = {
            "report_every_months": config.report_every_months,
            "duration_months": config.duration_months,
        }
    config.report_every_months = data.report_every_months  # type: ignore[assignment]
    config.duration_months = data.duration_months  # type: ignore[assignment]
    config.grace_days = data.grace_days  # type: ignore[assignment]
    config.ask_sex_breakdown = data.ask_sex_breakdown
    config.ask_region_breakdown = data.ask_region_breakdown
    db.session.flush()
    audit.record(
        actor,
        "ejecucion.configured",
        convocatoria,
        before=before,
        after={"report_every_months": config.report_every_months, "duration_months": config.duration_months},
    )
    return config


# --- the calendar ----------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has fewer days)."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Periodo:
    number: int
    kind: TipoReporte
    start: date
    end: date
    due_on: date


def report_calendar(starts_on: date, ends_on: date, every_months: int, grace_days: int) -> list[Periodo]:
    """One period every `every_months` from the start; the last one ends with the pilot and is the final
    report's. Each report is due `grace_days` after its period ends."""
    starts: list[date] = []
    current = starts_on
    while current <= ends_on:
        starts.append(current)
        current = add_months(starts_on, every_months * len(starts))
    periods = []
    for index, start in enumerate(starts):
        last = index == len(starts) - 1
        end = ends_on if last else starts[index + 1] - timedelta(days=1)
        periods.append(
            Periodo(
                number=index + 1,
                kind=TipoReporte.FINAL if last else TipoReporte.AVANCE,
                start=start,
                end=end,
                due_on=end + timedelta(days=grace_days),
            )
        )
    return periods


def pilot_dates(convocatoria: Convocatoria, config: ConfiguracionEjecucion, today: date) -> tuple[date, date]:
    """The call's execution period; today + the duration when the call has none (or only its start)."""
    start, end = fops.execution_period(convocatoria)
    start = start or today
    if end is None or end < start:
        end = add_months(start, config.duration_months) - timedelta(days=1)
    return start, end


# --- starting the pilots ---------------------------------------------------------------------------------


def awarded_teams(convocatoria_id: int) -> list[tuple[Equipo, AdjudicacionDemoDay, FormularioCompleto]]:
    """(team, award, accepted full form) of every team awarded at its demo day, one query."""
    stmt = (
        sa.select(Equipo, AdjudicacionDemoDay, FormularioCompleto)
        .join(AdjudicacionDemoDay, AdjudicacionDemoDay.equipo_id == Equipo.id)
        .join(FormularioCompleto, FormularioCompleto.equipo_id == Equipo.id)
        .where(
            Equipo.convocatoria_id == convocatoria_id,
            AdjudicacionDemoDay.outcome == ResultadoDemoDay.ADJUDICADO,
            FormularioCompleto.status == EstadoFormulario.ACEPTADO,
        )
        .order_by(Equipo.id)
    )
    return [tuple(row) for row in db.session.execute(stmt)]  # type: ignore[misc]


def pending_awards(convocatoria_id: int) -> int:
    """How many awarded teams with an accepted full form have no pilot yet (a late award)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(Equipo.id))
            .join(AdjudicacionDemoDay, AdjudicacionDemoDay.equipo_id == Equipo.id)
            .join(FormularioCompleto, FormularioCompleto.equipo_id == Equipo.id)
            .outerjoin(Piloto, Piloto.equipo_id == Equipo.id)
            .where(
                Equipo.convocatoria_id == convocatoria_id,
                AdjudicacionDemoDay.outcome == ResultadoDemoDay.ADJUDICADO,
                FormularioCompleto.status == EstadoFormulario.ACEPTADO,
                Piloto.id.is_(None),
            )
        )
        or 0
    )


def plan_of(formulario: FormularioCompleto) -> dict[str, Any]:
    return {
        "presupuesto": [dict(r) for r in formulario.presupuesto or []],
        "indicadores": [dict(r) for r in formulario.indicadores or []],
        "actividades": [dict(r) for r in formulario.actividades or []],
    }


def start_pilots(actor: User | None, convocatoria: Convocatoria, today: date | None = None) -> int:
    """A pilot for every team awarded at its demo day with an accepted full form and no pilot yet: its plan
    copied from the form, its dates, report calendar and milestones. Returns how many; idempotent."""
    today = today or chile.to_santiago(chile.utcnow()).date()
    existing = set(
        db.session.scalars(sa.select(Piloto.equipo_id).where(Piloto.convocatoria_id == convocatoria.id))
    )
    config = config_of(convocatoria)
    starts_on, ends_on = pilot_dates(convocatoria, config, today)
    created = 0
    for equipo, adjudicacion, formulario in awarded_teams(convocatoria.id):
        if equipo.id in existing:
            continue
        plan = plan_of(formulario)
        piloto = Piloto(
            equipo_id=equipo.id,
            convocatoria_id=convocatoria.id,
            formulario_id=formulario.id,
            region=equipo.region,
            name=equipo.name[:200],
            amount=int(
                adjudicacion.amount if adjudicacion.amount is not None else fops.awarded_amount(equipo)
            ),
            starts_on=starts_on,
            ends_on=ends_on,
            plan=plan,
            status=EstadoPiloto.EN_EJECUCION,
        )
        for periodo in report_calendar(starts_on, ends_on, config.report_every_months, config.grace_days):
            piloto.reportes.append(
                ReportePiloto(
                    number=periodo.number,
                    kind=periodo.kind,
                    period_start=periodo.start,
                    period_end=periodo.end,
                    due_on=periodo.due_on,
                    status=EstadoReporte.PENDIENTE,
                    data={},
                )
            )
        for actividad in plan["actividades"]:
            if actividad.get("ends_on"):
                piloto.hitos.append(
                    HitoPiloto(
                        title=str(actividad.get("description", ""))[:300],
                        due_on=date.fromisoformat(actividad["ends_on"]),
                    )
                )
        db.session.add(piloto)
        created += 1
    if created:
        db.session.flush()
        audit.record(actor, "piloto.started", convocatoria, after={"count": created})
    return created


def _on_fase_changed(
    convocatoria: Convocatoria, actor: User | None = None, after: Fase | None = None, **_kwargs: object
) -> None:
    if after == Fase.EJECUCION:
        start_pilots(actor, convocatoria)


def connect() -> None:
    fase_changed.connect(_on_fase_changed, weak=False)


# --- the pilot's plan ------------------------------------------------------------------------------------


@dataclass
class HitoData:
    title: str
    due_on: date | None


def save_plan(
    actor: User,
    piloto: Piloto,
    beneficiaries_planned: int | None,
    hitos: Sequence[HitoData],
    *,
    bad_number: bool,
) -> None:
    """Set the planned beneficiaries and the milestones (rows in order: an existing milestone per row,
    a blank row deletes it, extra rows add new ones; a done milestone keeps its date done)."""
    errors = []
    if bad_number or (beneficiaries_planned is not None and not 0 <= beneficiaries_planned <= MAX_PEOPLE):
        errors.append(_("Planned beneficiaries: a whole number of people, zero or more."))
    rows = [h for h in hitos if h.title.strip() or h.due_on is not None]
    if len(rows) > MAX_HITOS:
        errors.append(_("At most %(max)d milestones.", max=MAX_HITOS))
    for n, hito in enumerate(hitos, start=1):
        if not (hito.title.strip() or hito.due_on):
            continue
        if not hito.title.strip() or hito.due_on is None:
            errors.append(_("Milestone %(n)d: give its title and date.", n=n))
        elif len(hito.title) > 300:
            errors.append(_("Milestone %(n)d: the title is too long (at most 300 characters).", n=n))
    if errors:
        raise FormacionError(*errors)
    before = {"beneficiaries_planned": piloto.beneficiaries_planned, "hitos": len(piloto.hitos)}
    piloto.beneficiaries_planned = beneficiaries_planned
    existing = list(piloto.hitos)
    for index, hito in enumerate(hitos):
        blank = not hito.title.strip() and hito.due_on is None
        if index < len(existing):
            if blank:
                piloto.hitos.remove(existing[index])
            else:
                existing[index].title = hito.title.strip()
                existing[index].due_on = hito.due_on  # type: ignore[assignment]
        elif not blank:
            piloto.hitos.append(HitoPiloto(title=hito.title.strip(), due_on=hito.due_on))
    db.session.flush()
    audit.record(
        actor,
        "piloto.plan",
        piloto,
        before=before,
        after={"beneficiaries_planned": beneficiaries_planned, "hitos": len(piloto.hitos)},
    )


def mark_milestone(actor: User, hito: HitoPiloto, done: bool, today: date | None = None) -> None:
    if hito.piloto.status == EstadoPiloto.CERRADO:
        raise FormacionError(_("The pilot is closed."))
    before = {"done_on": hito.done_on.isoformat() if hito.done_on else None}
    hito.done_on = (today or chile.to_santiago(chile.utcnow()).date()) if done else None
    db.session.flush()
    audit.record(
        actor,
        "piloto.milestone",
        hito.piloto,
        before=before,
        after={"title": hito.title, "done_on": hito.done_on.isoformat() if hito.done_on else None},
    )


# --- reports: the one validation -------------------------------------------------------------------------


@dataclass
class ReporteData:
    """A report as typed: numbers kept as text until `check` reads them."""

    actuals: list[str] = field(default_factory=list)  # one per plan indicator
    total: str = ""
    mujeres: str = ""
    hombres: str = ""
    otro: str = ""
    por_region: dict[str, str] = field(default_factory=dict)
    gastos: list[str] = field(default_factory=list)  # pesos executed, one per plan budget line
    done: list[bool] = field(default_factory=list)  # one per plan activity
    notes: list[str] = field(default_factory=list)
    worked: str = ""
    failed: str = ""
    surprised: str = ""
    summary: str = ""  # the final report: the pilot's results in brief
    continuity: str = ""  # the final report: what continues after the pilot


def _count(text: str) -> int | None:
    """A whole number of people or pesos written by hand ("1.200", "$ 1.200" and "1200" alike)."""
    cleaned = (text or "").strip().replace("$", "").replace(".", "").replace(" ", "")
    if not cleaned:
        return None
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 13:
        raise ValueError(cleaned)
    return int(cleaned)


def _blank(text: str) -> bool:
    return not (text or "").strip()


def check(
    piloto: Piloto, reporte: ReportePiloto, data: ReporteData, config: ConfiguracionEjecucion, *, submit: bool
) -> list[str]:
    """Every rule of a report, in one place; returns the messages (empty when all is well).

    Always: numbers readable (indicator values as decimals, people and pesos as whole numbers, none
    negative), a breakdown adding up to the total when one is given, texts within their length.
    When sending: every indicator measured, the beneficiaries reached given (and their breakdowns when the
    call asks), every budget line's pesos executed (zero allowed), the three learnings written, and for
    the final report its summary and what continues."""
    errors: list[str] = []
    plan = piloto.plan or {}
    indicadores = plan.get("indicadores") or []
    for n, (row, actual) in enumerate(zip(indicadores, data.actuals, strict=False), start=1):
        if _blank(actual):
            if submit:
                errors.append(
                    _("Indicator %(n)d (%(name)s): enter its current value.", n=n, name=row.get("name"))
                )
        elif to_decimal(actual) is None:
            errors.append(
                _(
                    "Indicator %(n)d (%(name)s): the value must be a number, e.g. 12,5.",
                    n=n,
                    name=row.get("name"),
                )
            )
    people: dict[str, int | None] = {}
    for key, label, text in (
        ("total", _("Beneficiaries reached"), data.total),
        ("mujeres", _("Women"), data.mujeres),
        ("hombres", _("Men"), data.hombres),
        ("otro", _("Other or not stated"), data.otro),
    ):
        try:
            value = _count(text)
        except ValueError:
            errors.append(_("%(what)s: a whole number of people, zero or more.", what=label))
            value = None
        else:
            if value is not None and value > MAX_PEOPLE:
                errors.append(_("%(what)s: a whole number of people, zero or more.", what=label))
                value = None
        people[key] = value
    total = people["total"]
    if submit and total is None:
        errors.append(_("Enter the beneficiaries newly reached in this period (zero if none)."))
    sexes = [people["mujeres"], people["hombres"], people["otro"]]
    given_sexes = [v for v in sexes if v is not None]
    if config.ask_sex_breakdown and submit and len(given_sexes) < 3:
        errors.append(_("Enter the beneficiaries by sex: women, men and other (zero where none)."))
    if given_sexes and total is not None and sum(given_sexes) != total:
        errors.append(
            _(
                "The beneficiaries by sex add up to %(sum)d, but the total is %(total)d: they must match.",
                sum=sum(given_sexes),
                total=total,
            )
        )
    by_region: dict[str, int] = {}
    for code, text in data.por_region.items():
        if code not in REGIONS_BY_CODE:
            continue
        try:
            value = _count(text)
        except ValueError:
            errors.append(
                _(
                    "Region %(region)s: a whole number of people, zero or more.",
                    region=chile.region_name(code),
                )
            )
            continue
        if value is not None:
            by_region[code] = value
    if config.ask_region_breakdown and submit and total and not by_region:
        errors.append(_("Enter the beneficiaries by region."))
    if by_region and total is not None and sum(by_region.values()) != total:
        errors.append(
            _(
                "The beneficiaries by region add up to %(sum)d, but the total is %(total)d: they must match.",
                sum=sum(by_region.values()),
                total=total,
            )
        )
    for n, (line, text) in enumerate(zip(plan.get("presupuesto") or [], data.gastos, strict=False), start=1):
        try:
            value = _count(text)
        except ValueError:
            errors.append(
                _(
                    "Budget line %(n)d (%(item)s): the pesos executed must be a whole number, zero or more.",
                    n=n,
                    item=line.get("item"),
                )
            )
            continue
        if value is None and submit:
            errors.append(
                _(
                    "Budget line %(n)d (%(item)s): enter the pesos executed in this period (zero if none).",
                    n=n,
                    item=line.get("item"),
                )
            )
        elif value is not None and value > fops.MAX_PESOS:
            errors.append(
                _("Budget line %(n)d (%(item)s): the amount is too large.", n=n, item=line.get("item"))
            )
    for n, note in enumerate(data.notes, start=1):
        if len(note or "") > MAX_TEXT:
            errors.append(_("Activity %(n)d: the note is too long (at most 5000 characters).", n=n))
    texts = [
        (_("what worked"), data.worked),
        (_("what did not work"), data.failed),
        (_("what surprised you"), data.surprised),
    ]
    final = reporte.kind == TipoReporte.FINAL
    if final:
        texts += [
            (_("the pilot's results"), data.summary),
            (_("what continues after the pilot"), data.continuity),
        ]
    for label, text in texts:
        if len(text or "") > MAX_TEXT:
            errors.append(_("Learnings: %(what)s is too long (at most 5000 characters).", what=label))
        elif submit and _blank(text):
            errors.append(_("Write %(what)s.", what=label))
    return errors


def to_document(piloto: Piloto, reporte: ReportePiloto, data: ReporteData) -> dict[str, Any]:
    """The report's `data` (shape in ReportePiloto's docstring), from checked input."""
    plan = piloto.plan or {}

    def number(text: str) -> str:
        value = to_decimal(text)
        return "" if value is None else format(value.normalize(), "f")

    def count(text: str) -> int | None:
        return _count(text)

    document: dict[str, Any] = {
        "indicadores": [
            {"name": row.get("name", ""), "actual": number(actual)}
            for row, actual in zip(plan.get("indicadores") or [], data.actuals, strict=False)
        ],
        "beneficiarios": {
            "total": count(data.total),
            "mujeres": count(data.mujeres),
            "hombres": count(data.hombres),
            "otro": count(data.otro),
            "por_region": {
                code: value
                for code, text in data.por_region.items()
                if code in REGIONS_BY_CODE and (value := count(text)) is not None
            },
        },
        "gastos": [
            {"item": line.get("item", ""), "executed": count(text)}
            for line, text in zip(plan.get("presupuesto") or [], data.gastos, strict=False)
        ],
        "actividades": [
            {"description": row.get("description", ""), "done": bool(done), "note": (note or "").strip()}
            for row, done, note in zip(plan.get("actividades") or [], data.done, data.notes, strict=False)
        ],
        "aprendizajes": {
            "worked": data.worked.strip(),
            "failed": data.failed.strip(),
            "surprised": data.surprised.strip(),
        },
    }
    if reporte.kind == TipoReporte.FINAL:
        document["cierre"] = {"summary": data.summary.strip(), "continuity": data.continuity.strip()}
    return document


def from_document(piloto: Piloto, document: dict[str, Any] | None) -> ReporteData:
    """The form's values from a saved report (blank rows for what the plan has and the report lacks)."""
    document = document or {}
    plan = piloto.plan or {}

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    actual = {r.get("name"): r.get("actual") for r in document.get("indicadores") or []}
    gastos = {r.get("item"): r.get("executed") for r in document.get("gastos") or []}
    actividades = {r.get("description"): r for r in document.get("actividades") or []}
    people = document.get("beneficiarios") or {}
    learnt = document.get("aprendizajes") or {}
    cierre = document.get("cierre") or {}
    return ReporteData(
        actuals=[text(actual.get(r.get("name"))) for r in plan.get("indicadores") or []],
        total=text(people.get("total")),
        mujeres=text(people.get("mujeres")),
        hombres=text(people.get("hombres")),
        otro=text(people.get("otro")),
        por_region={code: text(v) for code, v in (people.get("por_region") or {}).items()},
        gastos=[text(gastos.get(r.get("item"))) for r in plan.get("presupuesto") or []],
        done=[
            bool((actividades.get(r.get("description")) or {}).get("done"))
            for r in plan.get("actividades") or []
        ],
        notes=[
            text((actividades.get(r.get("description")) or {}).get("note"))
            for r in plan.get("actividades") or []
        ],
        worked=text(learnt.get("worked")),
        failed=text(learnt.get("failed")),
        surprised=text(learnt.get("surprised")),
        summary=text(cierre.get("summary")),
        continuity=text(cierre.get("continuity")),
    )


def _earlier(reporte: ReportePiloto) -> list[ReportePiloto]:
    return [r for r in reporte.piloto.reportes if r.number < reporte.number]


def save_report(actor: User, reporte: ReportePiloto, data: ReporteData, *, submit: bool) -> ReportePiloto:
    """Save the team's report as a draft, or send it to the lead. Every rule is checked first; a refusal
    writes nothing."""
    piloto = reporte.piloto
    if piloto.status == EstadoPiloto.CERRADO:
        raise FormacionError(_("The pilot is closed; its reports can no longer be changed."))
    if reporte.status not in EDITABLE:
        raise FormacionError(
            _("The report was already sent; you can edit it again only if the lead sends it back.")
            if reporte.status == EstadoReporte.ENVIADO
            else _("The report was approved and can no longer be changed.")
        )
    errors = check(piloto, reporte, data, config_of(piloto.convocatoria), submit=submit)
    if submit and reporte.kind == TipoReporte.FINAL:
        unsent = [r.number for r in _earlier(reporte) if r.status in EDITABLE]
        if unsent:
            errors.append(
                _(
                    "Send the progress reports first (report %(numbers)s).",
                    numbers=", ".join(map(str, unsent)),
                )
            )
    if errors:
        raise FormacionError(*errors)
    document = to_document(piloto, reporte, data)
    before = {"status": reporte.status.value}
    reporte.data = document
    if submit:
        now = chile.utcnow()
        reporte.status = EstadoReporte.ENVIADO
        reporte.submitted_at = now
        reporte.historial.append(
            RevisionReporte(
                action=AccionReporte.ENVIADO, snapshot=document, actor_id=actor.id, created_at=now
            )
        )
    db.session.flush()
    audit.record(
        actor,
        "reporte.sent" if submit else "reporte.saved",
        piloto,
        before=before,
        after={"report": reporte.number, "status": reporte.status.value},
    )
    return reporte


# --- review ----------------------------------------------------------------------------------------------


def _comment(comment: str | None) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_TEXT:
        raise FormacionError(_("The comment is too long (at most 5000 characters)."))
    return comment


def send_back(actor: User, reporte: ReportePiloto, comment: str | None) -> None:
    """Send the report back to the team with what to change (a comment is required)."""
    comment = _comment(comment)
    if not comment:
        raise FormacionError(_("Write what the team should change."))
    _review(actor, reporte, AccionReporte.OBSERVADO, comment)


def approve(actor: User, reporte: ReportePiloto, comment: str | None = "") -> None:
    """Approve the report; approving the final report closes the pilot."""
    comment = _comment(comment)
    if reporte.kind == TipoReporte.FINAL and reporte.status == EstadoReporte.ENVIADO:
        pending = [r.number for r in _earlier(reporte) if r.status != EstadoReporte.APROBADO]
        if pending:
            raise FormacionError(
                _(
                    "Approve the progress reports first (report %(numbers)s).",
                    numbers=", ".join(map(str, pending)),
                )
            )
    _review(actor, reporte, AccionReporte.APROBADO, comment)


def _review(actor: User, reporte: ReportePiloto, action: AccionReporte, comment: str) -> None:
    if reporte.status != EstadoReporte.ENVIADO:
        raise FormacionError(_("Only a report the team has sent can be reviewed."))
    now = chile.utcnow()
    before = {"report": reporte.number, "status": reporte.status.value}
    approved = action == AccionReporte.APROBADO
    reporte.status = EstadoReporte.APROBADO if approved else EstadoReporte.CON_OBSERVACIONES
    reporte.reviewed_at = now
    reporte.historial.append(
        RevisionReporte(action=action, comment=comment, actor_id=actor.id, created_at=now)
    )
    piloto = reporte.piloto
    closed = approved and reporte.kind == TipoReporte.FINAL
    if closed:
        piloto.status = EstadoPiloto.CERRADO
        piloto.closed_at = now
    db.session.flush()
    audit.record(
        actor,
        "reporte.approved" if approved else "reporte.returned",
        piloto,
        before=before,
        after={"report": reporte.number, "status": reporte.status.value, "comment": comment},
    )
    if closed:
        audit.record(actor, "piloto.closed", piloto, after={"status": piloto.status.value})
    _tell_team(piloto, reporte, approved=approved, closed=closed, comment=comment)


def _tell_team(piloto: Piloto, reporte: ReportePiloto, *, approved: bool, closed: bool, comment: str) -> None:
    names = {"pilot": piloto.name, "number": reporte.number}
    if approved:
        subject = _l("Pilot %(pilot)s: report %(number)d was approved", **names)
        lines = [_l("The lead approved report %(number)d of the pilot %(pilot)s.", **names)]
        if closed:
            lines.append(
                _l(
                    "It was the final report: the pilot is closed. Your team can now write its "
                    "systematization sheet."
                )
            )
    else:
        subject = _l("Pilot %(pilot)s: report %(number)d was sent back", **names)
        lines = [
            _l("The lead sent report %(number)d of the pilot %(pilot)s back with this comment:", **names)
        ]
    link = external_url("pilotos_ejecucion.report", reporte_id=reporte.id)
    notify_team(piloto.equipo, subject, lines, comment=comment, link=link, link_label=_l("Open the report"))


# --- evidence --------------------------------------------------------------------------------------------


def add_evidencia(
    actor: User, reporte: ReportePiloto, stream: BinaryIO, filename: str | None
) -> EvidenciaReporte:
    """Attach an evidence file to an editable report (PDF, PNG or JPEG, sniffed; at most 10 MB)."""
    if reporte.piloto.status == EstadoPiloto.CERRADO or reporte.status not in EDITABLE:
        raise FormacionError(_("Evidence can be added only while the report can be edited."))
    count = db.session.scalar(
        sa.select(sa.func.count(EvidenciaReporte.id)).where(EvidenciaReporte.reporte_id == reporte.id)
    )
    if (count or 0) >= MAX_EVIDENCE:
        raise FormacionError(_("At most %(max)d evidence files per report.", max=MAX_EVIDENCE))
    try:
        stored = uploads.store_upload(stream, filename)
    except uploads.UploadError as error:
        raise FormacionError(error.message) from error
    evidencia = EvidenciaReporte(
        reporte_id=reporte.id,
        original_name=stored.original_name,
        stored_name=stored.stored_name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by_id=actor.id,
    )
    db.session.add(evidencia)
    db.session.flush()
    audit.record(
        actor,
        "reporte.evidence_added",
        reporte.piloto,
        after={"report": reporte.number, "file": stored.original_name},
    )
    return evidencia


def delete_evidencia(actor: User, evidencia: EvidenciaReporte) -> None:
    reporte = evidencia.reporte
    if reporte.piloto.status == EstadoPiloto.CERRADO or reporte.status not in EDITABLE:
        raise FormacionError(_("Evidence can be removed only while the report can be edited."))
    uploads.remove_after_commit(evidencia.stored_name)
    db.session.delete(evidencia)
    db.session.flush()
    audit.record(
        actor,
        "reporte.evidence_deleted",
        reporte.piloto,
        before={"report": reporte.number, "file": evidencia.original_name},
    )


# --- late reports and figures ----------------------------------------------------------------------------


def today_cl(now: datetime | None = None) -> date:
    return chile.to_santiago(now or chile.utcnow()).date()


def is_late(status: EstadoReporte | str, due_on: date, today: date) -> bool:
    """Past its due date and not with the lead (never sent, or sent back and not resent)."""
    return today > due_on and EstadoReporte(status) in EDITABLE


def figures_of(piloto: Piloto, reportes: Iterable[ReportePiloto] | None = None) -> PilotFigures:
    """The pilot's figures, counting its approved reports."""
    reportes = piloto.reportes if reportes is None else reportes
    approved = [
        r.data or {} for r in sorted(reportes, key=lambda r: r.number) if r.status == EstadoReporte.APROBADO
    ]
    return pilot_figures(piloto.plan or {}, piloto.amount, piloto.beneficiaries_planned, approved)


OVER = Decimal("1.10")


def risk_reasons(figures: PilotFigures, late: int, closed_or_ended: bool) -> list[str]:
    """Why a pilot is at risk (translated): late reports; budget execution above 110 % at any time or outside
    90–110 % once the pilot is closed or past its end; indicators moving away from their target."""
    reasons = []
    if late:
        reasons.append(_("%(n)d late report(s)", n=late))
    execution = figures.budget_execution
    if execution.value is not None and (execution.value > OVER or (closed_or_ended and execution.flagged)):
        reasons.append(
            _("budget execution %(pct)s %% (outside 90–110 %%)", pct=str(execution.percent).replace(".", ","))
        )
    off = figures.indicators_off_track
    if off:
        reasons.append(_("indicators off track: %(names)s", names=", ".join(r.name for r in off)))
    return reasons
