"""Operations of the demo day: create it with its pitch rubric, the four-helix jury, conflicts and recusal,
scoring 1–7 on a phone, live totals, and the final selection under the remaining budget with the
committee's solver, recorded per team with its reason; award letters by e-mail (a job, sent once).

Each takes the actor explicitly, never commits, records an audit event and raises FormacionError."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from convocatorias.models import Convocatoria
from evaluacion.seleccion import Candidate, SelectionProblem, solve_selection
from idea import audit, chile
from idea.extensions import db
from idea.jobs import enqueue
from idea.mail import external_url, send_email_to
from idea.models import Role, User
from pilotos import formulario as fops
from pilotos.demoday_models import (
    AdjudicacionDemoDay,
    ConflictoJurado,
    CriterioPitch,
    DemoDay,
    EstadoDemoDay,
    Helice,
    JuradoDemoDay,
    PuntajePitch,
    ResultadoDemoDay,
)
from pilotos.models import Equipo, MiembroEquipo
from pilotos.operations import FormacionError

HELICES: dict[str, object] = {
    Helice.ESTADO.value: _l("State"),
    Helice.ACADEMIA.value: _l("Academia"),
    Helice.EMPRESA.value: _l("Business"),
    Helice.SOCIEDAD_CIVIL.value: _l("Civil society"),
}
# The default pitch rubric: (criterion, weight in percent).
RUBRICA = (
    ("Claridad del problema y de la teoría de cambio", 25),
    ("Viabilidad del plan y del presupuesto", 25),
    ("Coproducción con la comunidad", 25),
    ("Sostenibilidad después del piloto", 25),
)
SCALE = (1, 7)


# --- setting up ----------------------------------------------------------------------------------------


def create_demoday(
    actor: User, convocatoria: Convocatoria, name: str, regions: list[str], budget: int, place: str = ""
) -> DemoDay:
    name = (name or "").strip()
    if not name:
        raise FormacionError(_("Give the demo day a name."))
    if budget is None or budget < 0 or budget > fops.MAX_PESOS:
        raise FormacionError(_("The remaining budget must be zero or more whole pesos."))
    demoday = DemoDay(
        convocatoria_id=convocatoria.id,
        name=name[:200],
        regions=sorted(set(regions)),
        budget=budget,
        place=place,
    )
    demoday.criterios = [CriterioPitch(position=i, name=n, weight=w) for i, (n, w) in enumerate(RUBRICA)]
    db.session.add(demoday)
    db.session.flush()
    audit.record(actor, "demoday.created", demoday, after={"name": demoday.name, "regions": demoday.regions})
    return demoday


def teams_of(demoday: DemoDay) -> list[Equipo]:
    """The teams that pitch: those of the call in the demo day's regions (every region when it has none)."""
    stmt = (
        sa.select(Equipo)
        .where(Equipo.convocatoria_id == demoday.convocatoria_id)
        .order_by(Equipo.name, Equipo.id)
    )
    if demoday.regions:
        stmt = stmt.where(Equipo.region.in_(demoday.regions))
    return list(db.session.scalars(stmt))


def add_juror(
    actor: User, demoday: DemoDay, user: User | None, helix: str, organization: str = ""
) -> JuradoDemoDay:
    if demoday.status == EstadoDemoDay.CERRADO:
        raise FormacionError(_("The demo day is closed."))
    if user is None or not user.has_any_role(Role.JURADO):
        raise FormacionError(_("Choose a person with the juror role."))
    if helix not in HELICES:
        raise FormacionError(_("Choose the juror's helix."))
    if any(j.user_id == user.id for j in demoday.jurados):
        raise FormacionError(_("%(name)s is already on this jury.", name=user.name))
    jurado = JuradoDemoDay(
        demoday_id=demoday.id, user_id=user.id, helix=Helice(helix), organization=organization[:200]
    )
    demoday.jurados.append(jurado)
    db.session.flush()
    audit.record(actor, "demoday.juror_added", demoday, after={"user_id": user.id, "helix": helix})
    return jurado


def missing_helices(demoday: DemoDay) -> list[str]:
    present = {j.helix.value for j in demoday.jurados}
    return [h for h in HELICES if h not in present]


def open_demoday(actor: User, demoday: DemoDay) -> None:
    """Open the scoring: only with at least one juror of each of the four helices."""
    if demoday.status != EstadoDemoDay.PREPARACION:
        raise FormacionError(_("The demo day is already open or closed."))
    missing = missing_helices(demoday)
    if missing:
        raise FormacionError(
            _(
                "The jury needs at least one member of each helix; missing: %(helices)s.",
                helices=", ".join(str(HELICES[h]) for h in missing),
            )
        )
    if not demoday.criterios:
        raise FormacionError(_("The pitch rubric has no criteria."))
    demoday.status = EstadoDemoDay.ABIERTO
    demoday.opened_at = chile.utcnow()
    audit.record(actor, "demoday.opened", demoday, after={"status": demoday.status.value})


# --- the jury --------------------------------------------------------------------------------------------


def juror_of(user: User, demoday: DemoDay) -> JuradoDemoDay | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        sa.select(JuradoDemoDay).where(
            JuradoDemoDay.demoday_id == demoday.id, JuradoDemoDay.user_id == user.id
        )
    )


def conflicted_teams(jurado: JuradoDemoDay) -> set[int]:
    return set(
        db.session.scalars(sa.select(ConflictoJurado.equipo_id).where(ConflictoJurado.jurado_id == jurado.id))
    )


def _team_of(demoday: DemoDay, equipo: Equipo) -> None:
    if equipo.convocatoria_id != demoday.convocatoria_id or (
        demoday.regions and equipo.region not in demoday.regions
    ):
        raise FormacionError(_("This team does not pitch at this demo day."))


def declare_conflict(user: User, jurado: JuradoDemoDay, equipo: Equipo, reason: str) -> None:
    """The juror declares a conflict with a team and is recused from scoring it (scores given are removed)."""
    _team_of(jurado.demoday, equipo)
    reason = (reason or "").strip()
    if not reason:
        raise FormacionError(_("Say briefly what the conflict is."))
    if equipo.id in conflicted_teams(jurado):
        raise FormacionError(_("You already declared a conflict with this team."))
    db.session.add(ConflictoJurado(jurado_id=jurado.id, equipo_id=equipo.id, reason=reason[:2000]))
    db.session.execute(
        sa.delete(PuntajePitch).where(
            PuntajePitch.jurado_id == jurado.id, PuntajePitch.equipo_id == equipo.id
        )
    )
    db.session.flush()
    audit.record(user, "demoday.conflict", jurado.demoday, after={"equipo_id": equipo.id})


def my_scores(jurado: JuradoDemoDay, equipo_id: int) -> dict[int, int]:
    return dict(
        db.session.execute(
            sa.select(PuntajePitch.criterio_id, PuntajePitch.score).where(
                PuntajePitch.jurado_id == jurado.id, PuntajePitch.equipo_id == equipo_id
            )
        ).all()
    )


def score(user: User, jurado: JuradoDemoDay, equipo: Equipo, scores: dict[int, int | None]) -> None:
    """Score a team's pitch on every criterion, 1 to 7; a recused juror cannot."""
    demoday = jurado.demoday
    if jurado.user_id != user.id:
        raise FormacionError(_("Only the juror can give their scores."))
    if demoday.status != EstadoDemoDay.ABIERTO:
        raise FormacionError(_("Scoring is not open."))
    _team_of(demoday, equipo)
    if equipo.id in conflicted_teams(jurado):
        raise FormacionError(_("You declared a conflict with this team: you cannot score it."))
    errors = []
    for criterio in demoday.criterios:
        value = scores.get(criterio.id)
        if value is None or not SCALE[0] <= value <= SCALE[1]:
            errors.append(_("%(criterion)s: choose a score from 1 to 7.", criterion=criterio.name))
    if errors:
        raise FormacionError(*errors)
    existing = {
        p.criterio_id: p
        for p in db.session.scalars(
            sa.select(PuntajePitch).where(
                PuntajePitch.jurado_id == jurado.id, PuntajePitch.equipo_id == equipo.id
            )
        )
    }
    now = chile.utcnow()
    for criterio in demoday.criterios:
        value = int(scores[criterio.id])  # type: ignore[arg-type]
        if criterio.id in existing:
            existing[criterio.id].score = value
            existing[criterio.id].scored_at = now
        else:
            db.session.add(
                PuntajePitch(
                    jurado_id=jurado.id,
                    equipo_id=equipo.id,
                    criterio_id=criterio.id,
                    score=value,
                    scored_at=now,
                )
            )
    db.session.flush()
    audit.record(user, "demoday.scored", demoday, after={"equipo_id": equipo.id})


# --- totals and the final selection ----------------------------------------------------------------------


@dataclass
class TotalEquipo:
    equipo: Equipo
    by_juror: dict[int, float] = field(default_factory=dict)  # jurado_id -> weighted score 1–7
    recused: set[int] = field(default_factory=set)  # jurado ids

    @property
    def mean(self) -> float | None:
        return sum(self.by_juror.values()) / len(self.by_juror) if self.by_juror else None


def totals(demoday: DemoDay) -> list[TotalEquipo]:
    """Each team's weighted score by each juror who scored every criterion, and the mean; best first."""
    weights = {c.id: c.weight for c in demoday.criterios}
    total_weight = sum(weights.values()) or 1
    rows: dict[int, TotalEquipo] = {e.id: TotalEquipo(e) for e in teams_of(demoday)}
    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    jurados = [j.id for j in demoday.jurados]
    if jurados:
        for jurado_id, equipo_id, criterio_id, value in db.session.execute(
            sa.select(
                PuntajePitch.jurado_id, PuntajePitch.equipo_id, PuntajePitch.criterio_id, PuntajePitch.score
            ).where(PuntajePitch.jurado_id.in_(jurados))
        ):
            if criterio_id in weights:
                acc = sums[(equipo_id, jurado_id)]
                acc[0] += weights[criterio_id] * value
                acc[1] += 1
        for jurado_id, equipo_id in db.session.execute(
            sa.select(ConflictoJurado.jurado_id, ConflictoJurado.equipo_id).where(
                ConflictoJurado.jurado_id.in_(jurados)
            )
        ):
            if equipo_id in rows:
                rows[equipo_id].recused.add(jurado_id)
    for (equipo_id, jurado_id), (weighted, count) in sums.items():
        if equipo_id in rows and count == len(weights):
            rows[equipo_id].by_juror[jurado_id] = weighted / total_weight
    return sorted(rows.values(), key=lambda t: (-(t.mean or 0), t.equipo.name, t.equipo.id))


def adjudicaciones(demoday: DemoDay) -> list[AdjudicacionDemoDay]:
    return list(
        db.session.scalars(
            sa.select(AdjudicacionDemoDay)
            .where(AdjudicacionDemoDay.demoday_id == demoday.id)
            .order_by(AdjudicacionDemoDay.rank, AdjudicacionDemoDay.id)
        )
    )


def select_and_close(actor: User, demoday: DemoDay) -> list[AdjudicacionDemoDay]:
    """Close the scoring and choose the teams to award under the remaining budget with the committee's solver
    (score = the demo-day mean); record each team's award with its reason and queue the award letters."""
    if demoday.status != EstadoDemoDay.ABIERTO:
        raise FormacionError(_("Only an open demo day can be closed with its selection."))
    rows = totals(demoday)
    scored = [t for t in rows if t.mean is not None]
    if not scored:
        raise FormacionError(_("No team has been scored yet."))
    amounts = {t.equipo.id: fops.awarded_amount(t.equipo) for t in scored}
    candidates = tuple(
        Candidate(
            id=t.equipo.id,
            folio=t.equipo.postulacion.folio or str(t.equipo.id),
            region=t.equipo.region or "",
            desafio_id=t.equipo.postulacion.desafio_id,
            amount=amounts[t.equipo.id],
            score=float(t.mean or 0),
            rank=rank,
        )
        for rank, t in enumerate(scored, start=1)
    )
    result = solve_selection(SelectionProblem(candidates=candidates, budget=demoday.budget, objective="rank"))
    if not result.feasible:
        raise FormacionError(result.message or _("The selection is not possible with this budget."))
    selected = set(result.selected)
    explanations = {e.candidate_id: e.message for e in result.explanations}
    now = chile.utcnow()
    records = []
    for rank, t in enumerate(rows, start=1):
        mean = t.mean
        if t.equipo.id in selected:
            outcome = ResultadoDemoDay.ADJUDICADO
            reason = _(
                "Selected with a demo-day score of %(score)s within the remaining budget.", score=_fmt(mean)
            )
        elif mean is None:
            outcome, reason = ResultadoDemoDay.NO_ADJUDICADO, _("Not scored at the demo day.")
        else:
            outcome = ResultadoDemoDay.NO_ADJUDICADO
            reason = explanations.get(t.equipo.id) or _(
                "Demo-day score %(score)s: outside the remaining budget.", score=_fmt(mean)
            )
        record = AdjudicacionDemoDay(
            demoday_id=demoday.id,
            equipo_id=t.equipo.id,
            outcome=outcome,
            reason=reason,
            score=mean,
            rank=rank if mean is not None else None,
            amount=amounts.get(t.equipo.id) if outcome == ResultadoDemoDay.ADJUDICADO else None,
            decided_at=now,
            decided_by_id=actor.id,
        )
        db.session.add(record)
        records.append(record)
    demoday.status = EstadoDemoDay.CERRADO
    demoday.closed_at = now
    db.session.flush()
    audit.record(
        actor,
        "demoday.awarded",
        demoday,
        after={
            "adjudicados": sorted(selected),
            "total": result.total_amount,
            "budget": demoday.budget,
        },
    )
    enqueue(send_award_letters, demoday.id)
    return records


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}".replace(".", ",")


def send_award_letters(demoday_id: int) -> int:
    """Job: e-mail each team's members its award letter; each letter is claimed once (a rerun sends none)."""
    sent = 0
    records = db.session.scalars(
        sa.select(AdjudicacionDemoDay).where(
            AdjudicacionDemoDay.demoday_id == demoday_id, AdjudicacionDemoDay.letter_sent_at.is_(None)
        )
    ).all()
    for record in records:
        claimed = db.session.execute(
            sa.update(AdjudicacionDemoDay)
            .where(AdjudicacionDemoDay.id == record.id, AdjudicacionDemoDay.letter_sent_at.is_(None))
            .values(letter_sent_at=chile.utcnow())
        ).rowcount
        if not claimed:
            continue
        members = db.session.scalars(
            sa.select(User)
            .join(MiembroEquipo, MiembroEquipo.user_id == User.id)
            .where(MiembroEquipo.equipo_id == record.equipo_id)
        ).all()
        awarded = record.outcome == ResultadoDemoDay.ADJUDICADO
        for user in members:
            send_email_to(
                user,
                _l("Your pilot was awarded") if awarded else _l("Result of the demo day"),
                "demoday_adjudicacion",
                record=record,
                equipo=record.equipo,
                demoday=record.demoday,
                awarded=awarded,
                link=external_url("pilotos_equipo.home", equipo_id=record.equipo_id),
            )
            sent += 1
    return sent
