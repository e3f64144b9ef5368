"""Operations of the full form (formulario completo): who may fill it in, the one validation of every rule,
the all-or-nothing save (draft or send), and the lead's review (send back with a comment, or accept).

Each takes the actor explicitly, never commits and records an audit event; a refusal raises
pilotos.operations.FormacionError with every message at once, before anything is written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from convocatorias.models import Convocatoria, IndicadorLineaBase
from evaluacion.comite_models import Decision
from idea import audit, chile
from idea.extensions import db
from idea.mail import external_url
from idea.models import User
from pilotos import operations as ops
from pilotos.avisos import notify_team
from pilotos.formulario_models import (
    AccionRevision,
    EstadoFormulario,
    FormularioCompleto,
    RevisionFormulario,
)
from pilotos.models import Equipo
from pilotos.operations import FormacionError

# The fixed list of budget categories.
CATEGORIAS: dict[str, object] = {
    "personal": _l("Personnel"),
    "equipamiento": _l("Equipment"),
    "materiales": _l("Materials and supplies"),
    "servicios": _l("Services"),
    "difusion": _l("Outreach"),
    "traslados": _l("Travel"),
    "operacion": _l("Operating costs"),
    "otros": _l("Other"),
}
MAX_ROWS = 40
MAX_PESOS = 10**12  # far above any pilot, well inside a BIGINT
EDITABLE = (EstadoFormulario.BORRADOR, EstadoFormulario.CON_OBSERVACIONES)


@dataclass
class LineaData:
    item: str
    category: str
    amount: int | None


@dataclass
class IndicadorData:
    name: str
    unit: str
    baseline: Decimal | None
    target: Decimal | None


@dataclass
class ActividadData:
    description: str
    starts_on: date | None
    ends_on: date | None


@dataclass
class RiesgoData:
    risk: str
    mitigation: str


@dataclass
class FormularioData:
    problem: str = ""
    activities: str = ""
    outputs: str = ""
    outcomes: str = ""
    impact: str = ""
    lineas: list[LineaData] = field(default_factory=list)
    indicadores: list[IndicadorData] = field(default_factory=list)
    actividades: list[ActividadData] = field(default_factory=list)
    riesgos: list[RiesgoData] = field(default_factory=list)


# --- what the team may do ------------------------------------------------------------------------------


def formulario_of(equipo: Equipo) -> FormularioCompleto | None:
    return db.session.scalar(sa.select(FormularioCompleto).where(FormularioCompleto.equipo_id == equipo.id))


def pending_modules(equipo: Equipo) -> list[str]:
    """Titles of the required modules the team has not completed yet."""
    modulos = ops.modulos_of(equipo.convocatoria_id)
    done = ops.progress(equipo.convocatoria_id, [equipo.id])
    return [m.title for m in modulos if m.required and not ops.module_done(m, done.get((equipo.id, m.id), 0))]


def is_unlocked(equipo: Equipo) -> bool:
    return not pending_modules(equipo)


def awarded_amount(equipo: Equipo) -> int:
    """The amount the committee awarded (its decision in the latest closed session), else the amount the
    submission requested."""
    sesion = ops.latest_closed_session(equipo.convocatoria_id)
    amount = None
    if sesion is not None:
        amount = db.session.scalar(
            sa.select(Decision.awarded_amount).where(
                Decision.sesion_id == sesion.id, Decision.postulacion_id == equipo.postulacion_id
            )
        )
    if amount is None:
        amount = equipo.postulacion.requested_amount or 0
    return int(amount)


def execution_period(convocatoria: Convocatoria) -> tuple[date | None, date | None]:
    """The call's execution period as Chilean dates (execution start .. closing)."""
    start = (
        chile.to_santiago(convocatoria.execution_start_at).date() if convocatoria.execution_start_at else None
    )
    end = chile.to_santiago(convocatoria.closing_at).date() if convocatoria.closing_at else None
    return start, end


def baseline_rows(equipo: Equipo) -> list[IndicadorData]:
    """The challenge's baseline indicators, to prefill the form's indicators."""
    rows = db.session.scalars(
        sa.select(IndicadorLineaBase)
        .where(IndicadorLineaBase.desafio_id == equipo.postulacion.desafio_id)
        .order_by(IndicadorLineaBase.position, IndicadorLineaBase.id)
    )
    return [IndicadorData(name=i.name, unit=i.unit, baseline=i.value, target=None) for i in rows]


# --- the one validation --------------------------------------------------------------------------------


def _blank(text: str | None) -> bool:
    return not (text or "").strip()


def check(equipo: Equipo, data: FormularioData, *, submit: bool) -> list[str]:
    """Every rule of the full form, in one place; returns the messages (empty when all is well).

    Always: each row complete and coherent (category from the list, positive integer amounts, a target only
    with a baseline, activity dates within the call's execution period, a risk with its mitigation).
    When sending: the theory of change complete, at least one row of each kind, and the budget adding up
    exactly to the amount awarded."""
    errors: list[str] = []
    for name, rows in (
        (_("budget lines"), data.lineas),
        (_("indicators"), data.indicadores),
        (_("activities"), data.actividades),
        (_("risks"), data.riesgos),
    ):
        if len(rows) > MAX_ROWS:
            errors.append(_("At most %(max)d %(what)s.", max=MAX_ROWS, what=name))
    for n, linea in enumerate(data.lineas, start=1):
        if _blank(linea.item):
            errors.append(_("Budget line %(n)d: describe the item.", n=n))
        if linea.category not in CATEGORIAS:
            errors.append(_("Budget line %(n)d: choose a category from the list.", n=n))
        if linea.amount is None or linea.amount <= 0 or linea.amount > MAX_PESOS:
            errors.append(_("Budget line %(n)d: the amount must be a whole number of pesos above zero.", n=n))
    for n, indicador in enumerate(data.indicadores, start=1):
        if _blank(indicador.name) or _blank(indicador.unit):
            errors.append(_("Indicator %(n)d: give its name and unit.", n=n))
        if indicador.target is not None and indicador.baseline is None:
            errors.append(
                _("Indicator %(n)d: a target needs a baseline; enter the value measured today.", n=n)
            )
        if submit and indicador.target is None:
            errors.append(_("Indicator %(n)d: enter the target.", n=n))
    start, end = execution_period(equipo.convocatoria)
    for n, actividad in enumerate(data.actividades, start=1):
        if _blank(actividad.description):
            errors.append(_("Activity %(n)d: describe the activity.", n=n))
        if actividad.starts_on is None or actividad.ends_on is None:
            errors.append(_("Activity %(n)d: enter its start and end dates.", n=n))
            continue
        if actividad.ends_on < actividad.starts_on:
            errors.append(_("Activity %(n)d: it cannot end before it starts.", n=n))
        outside = (start is not None and actividad.starts_on < start) or (
            end is not None and actividad.ends_on > end
        )
        if outside:
            errors.append(
                _(
                    "Activity %(n)d: its dates must be within the execution period, %(start)s to %(end)s.",
                    n=n,
                    start=chile.format_date_es(start) if start else "—",
                    end=chile.format_date_es(end) if end else "—",
                )
            )
    for n, riesgo in enumerate(data.riesgos, start=1):
        if _blank(riesgo.risk) or _blank(riesgo.mitigation):
            errors.append(_("Risk %(n)d: describe the risk and how you will mitigate it.", n=n))
    if submit:
        for label, text in (
            (_("the problem"), data.problem),
            (_("the activities"), data.activities),
            (_("the outputs"), data.outputs),
            (_("the outcomes"), data.outcomes),
            (_("the impact"), data.impact),
        ):
            if _blank(text):
                errors.append(_("Theory of change: describe %(what)s.", what=label))
        if not data.lineas:
            errors.append(_("Add at least one budget line."))
        if not data.indicadores:
            errors.append(_("Add at least one indicator."))
        if not data.actividades:
            errors.append(_("Add at least one activity to the plan."))
        if not data.riesgos:
            errors.append(_("Add at least one risk with its mitigation."))
        total = sum(linea.amount or 0 for linea in data.lineas)
        awarded = awarded_amount(equipo)
        if data.lineas and total != awarded:
            errors.append(
                _(
                    "The budget lines add up to %(total)s, but the amount awarded is %(awarded)s: "
                    "they must add up exactly (difference %(diff)s).",
                    total=chile.format_clp(total),
                    awarded=chile.format_clp(awarded),
                    diff=chile.format_clp(total - awarded),
                )
            )
    return errors


# --- saving and review ---------------------------------------------------------------------------------


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def to_document(data: FormularioData) -> dict[str, object]:
    return {
        "problem": data.problem,
        "activities": data.activities,
        "outputs": data.outputs,
        "outcomes": data.outcomes,
        "impact": data.impact,
        "presupuesto": [asdict(linea) for linea in data.lineas],
        "indicadores": [
            {"name": i.name, "unit": i.unit, "baseline": _num(i.baseline), "target": _num(i.target)}
            for i in data.indicadores
        ],
        "actividades": [
            {
                "description": a.description,
                "starts_on": a.starts_on.isoformat() if a.starts_on else None,
                "ends_on": a.ends_on.isoformat() if a.ends_on else None,
            }
            for a in data.actividades
        ],
        "riesgos": [asdict(r) for r in data.riesgos],
    }


def from_formulario(formulario: FormularioCompleto) -> FormularioData:
    def dec(value: str | None) -> Decimal | None:
        return None if value in (None, "") else Decimal(str(value))

    def day(value: str | None) -> date | None:
        return date.fromisoformat(value) if value else None

    return FormularioData(
        problem=formulario.problem,
        activities=formulario.activities,
        outputs=formulario.outputs,
        outcomes=formulario.outcomes,
        impact=formulario.impact,
        lineas=[LineaData(r["item"], r["category"], r["amount"]) for r in formulario.presupuesto or []],
        indicadores=[
            IndicadorData(r["name"], r["unit"], dec(r.get("baseline")), dec(r.get("target")))
            for r in formulario.indicadores or []
        ],
        actividades=[
            ActividadData(r["description"], day(r.get("starts_on")), day(r.get("ends_on")))
            for r in formulario.actividades or []
        ],
        riesgos=[RiesgoData(r["risk"], r["mitigation"]) for r in formulario.riesgos or []],
    )


def save(actor: User, equipo: Equipo, data: FormularioData, *, submit: bool) -> FormularioCompleto:
    """Save the team's form as a draft, or send it to the lead. Every rule is checked first; a refusal
    writes nothing."""
    pending = pending_modules(equipo)
    if pending:
        raise FormacionError(
            _(
                "The full form opens when your team completes the required modules: %(titles)s.",
                titles=", ".join(pending),
            )
        )
    formulario = formulario_of(equipo)
    if formulario is not None and formulario.status not in EDITABLE:
        raise FormacionError(
            _("The form was already sent; you can edit it again only if the lead sends it back.")
            if formulario.status == EstadoFormulario.ENVIADO
            else _("The form was accepted and can no longer be changed.")
        )
    errors = check(equipo, data, submit=submit)
    if errors:
        raise FormacionError(*errors)
    document = to_document(data)
    before = None
    if formulario is None:
        formulario = FormularioCompleto(equipo_id=equipo.id, status=EstadoFormulario.BORRADOR)
        db.session.add(formulario)
    else:
        before = {"status": formulario.status.value}
    for key, value in document.items():
        setattr(formulario, key, value)
    if submit:
        now = chile.utcnow()
        formulario.status = EstadoFormulario.ENVIADO
        formulario.submitted_at = now
        formulario.historial.append(
            RevisionFormulario(
                action=AccionRevision.ENVIADO, snapshot=document, actor_id=actor.id, created_at=now
            )
        )
    db.session.flush()
    audit.record(
        actor,
        "formulario.sent" if submit else "formulario.saved",
        equipo,
        before=before,
        after={"status": formulario.status.value},
    )
    return formulario


def _review(actor: User, formulario: FormularioCompleto, action: AccionRevision, comment: str) -> None:
    if formulario.status != EstadoFormulario.ENVIADO:
        raise FormacionError(_("Only a form the team has sent can be reviewed."))
    now = chile.utcnow()
    before = {"status": formulario.status.value}
    formulario.status = (
        EstadoFormulario.ACEPTADO if action == AccionRevision.ACEPTADO else EstadoFormulario.CON_OBSERVACIONES
    )
    formulario.reviewed_at = now
    formulario.historial.append(
        RevisionFormulario(action=action, comment=comment, actor_id=actor.id, created_at=now)
    )
    db.session.flush()
    audit.record(
        actor,
        "formulario.accepted" if action == AccionRevision.ACEPTADO else "formulario.returned",
        formulario.equipo,
        before=before,
        after={"status": formulario.status.value, "comment": comment},
    )
    team = formulario.equipo.name
    if action == AccionRevision.ACEPTADO:
        subject = _l("Team %(team)s: your full form was accepted", team=team)
        lines = [_l("The lead accepted the full form of the team %(team)s.", team=team)]
    else:
        subject = _l("Team %(team)s: your full form was sent back", team=team)
        lines = [_l("The lead sent the full form of the team %(team)s back with this comment:", team=team)]
    notify_team(
        formulario.equipo,
        subject,
        lines,
        comment=comment,
        link=external_url("pilotos_formulario.team_form", equipo_id=formulario.equipo_id),
        link_label=_l("Open the form"),
    )


def request_changes(actor: User, formulario: FormularioCompleto, comment: str) -> None:
    """Send the form back to the team with a comment on what to change."""
    comment = (comment or "").strip()
    if not comment:
        raise FormacionError(_("Write what the team should change."))
    if len(comment) > 5000:
        raise FormacionError(_("The comment is too long (at most 5000 characters)."))
    _review(actor, formulario, AccionRevision.OBSERVADO, comment)


def accept(actor: User, formulario: FormularioCompleto, comment: str = "") -> None:
    comment = (comment or "").strip()
    if len(comment) > 5000:
        raise FormacionError(_("The comment is too long (at most 5000 characters)."))
    _review(actor, formulario, AccionRevision.ACEPTADO, comment)
