"""Published results of the committee: publishing a closed session, each submission's current outcome, the
public results page's data (no personal data) and the applicant e-mails with their anonymous feedback.

`publish_results` is an operation (explicit actor, audit event, never commits); `notify_outcomes` is the job
it queues, which commits per message and is idempotent through `Decision.notified_at`.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from convocatorias.models import Convocatoria, Desafio, EstadoPostulacion, Postulacion
from evaluacion.comite_models import Decision, ReglasSeleccion, Resultado, SesionComite
from evaluacion.models import Asignacion, Criterio, EstadoAsignacion, Puntaje, Rubrica
from idea import audit, chile, pagecache
from idea.extensions import db
from idea.jobs import commit, enqueue
from idea.mail import external_url, send_email_to
from idea.models import Role, User

log = logging.getLogger(__name__)

RESULTADO_LABELS: dict[Resultado, Any] = {
    Resultado.SELECCIONADA: _l("Selected"),
    Resultado.LISTA_ESPERA: _l("Waitlist"),
    Resultado.NO_SELECCIONADA: _l("Not selected"),
    Resultado.DECLINADA: _l("Declined"),
}


def resultado_label(value: Any) -> str:
    try:
        return str(RESULTADO_LABELS[Resultado(value)])
    except ValueError:
        return str(value)


class ResultadosError(Exception):
    """A refused publication, with a message for the person who asked."""

    def __init__(self, message: Any) -> None:  # a lazy string, translated where it is shown
        super().__init__(message)
        self.message = message


# --- reading the outcomes ------------------------------------------------------------------------------


def _closed_sessions(convocatoria_id: int, *, published_only: bool = False) -> list[SesionComite]:
    """The call's closed sessions in order; with `published_only`, those up to the latest published one."""
    sessions = list(
        db.session.scalars(
            sa.select(SesionComite)
            .where(SesionComite.convocatoria_id == convocatoria_id, SesionComite.closed_at.is_not(None))
            .order_by(SesionComite.closed_at, SesionComite.number, SesionComite.id)
        )
    )
    if published_only:
        last = max((i for i, s in enumerate(sessions) if s.results_published_at is not None), default=-1)
        sessions = sessions[: last + 1]
    return sessions


def published_session(convocatoria_id: int) -> SesionComite | None:
    """The latest closed session whose results were published (None: nothing is public yet)."""
    sessions = _closed_sessions(convocatoria_id, published_only=True)
    return sessions[-1] if sessions else None


def _outcomes(convocatoria_id: int, *, published_only: bool) -> dict[int, Decision]:
    sessions = _closed_sessions(convocatoria_id, published_only=published_only)
    if not sessions:
        return {}
    order = {s.id: i for i, s in enumerate(sessions)}
    decisions = db.session.scalars(sa.select(Decision).where(Decision.sesion_id.in_(order))).all()
    current: dict[int, Decision] = {}
    # A later session (waitlist promotion) may decide only some submissions: the latest decision wins.
    for d in sorted(decisions, key=lambda d: (order[d.sesion_id], d.id)):
        current[d.postulacion_id] = d
    return current


def current_outcomes(convocatoria: Convocatoria) -> dict[int, Decision]:
    """Each submission's decision in the latest closed session that decided it: {postulacion_id: Decision}."""
    return _outcomes(convocatoria.id, published_only=False)


def published_outcomes(convocatoria: Convocatoria) -> dict[int, Decision]:
    """The outcomes as published: closed sessions up to the latest one whose results are public."""
    return _outcomes(convocatoria.id, published_only=True)


def published_outcome_of(p: Postulacion) -> Decision | None:
    """The published outcome of one submission, or None (nothing published, or no decision on it)."""
    if p.status == EstadoPostulacion.BORRADOR:
        return None
    return published_outcomes(p.convocatoria).get(p.id)


def outcome_for_applicant(p: Postulacion) -> dict[str, Any] | None:
    """What the applicant's own submission page shows of the committee's published decision (the page is
    in `convocatorias`, which does not import this package: a template helper offers it)."""
    d = published_outcome_of(p)
    if d is None:
        return None
    return {
        "outcome": d.outcome.value,
        "label": resultado_label(d.outcome),
        "reason": d.reason,
        "amount": d.awarded_amount if d.outcome == Resultado.SELECCIONADA else None,
        "results_url": url_for("comite_resultados.public", slug=p.convocatoria.slug),
    }


# --- publishing ----------------------------------------------------------------------------------------


def can_publish(user: Any, convocatoria: Convocatoria) -> bool:
    """Committee members (or admins) of the whole call, not of one region only, may publish its results."""
    if not user.is_authenticated:
        return False
    return any(
        a.role in (Role.COMITE, Role.ADMIN)
        and a.convocatoria_id in (None, convocatoria.id)
        and a.region is None
        for a in user.roles
    )


def _bump_public_cache() -> None:
    """Once this transaction commits, render the cached public pages afresh (the call page links to the
    results, and sessions are not among the models the cache watches)."""
    pagecache.bump_on_commit(pagecache.PUBLIC)


def publish_results(actor: User, sesion: SesionComite) -> None:
    """Publish the results of a closed session: the public page shows them and every applicant of the call
    gets one e-mail with their outcome (a job queued with this transaction). Refused for an open session
    or one already published. Flushes, audits, never commits."""
    if not sesion.is_closed or sesion.closed_at is None:
        raise ResultadosError(_l("Only the results of a closed session can be published."))
    if sesion.results_published_at is not None:
        raise ResultadosError(_l("The results of this session are already published."))
    later = db.session.scalar(
        sa.select(sa.func.count(SesionComite.id)).where(
            SesionComite.convocatoria_id == sesion.convocatoria_id,
            SesionComite.closed_at.is_not(None),
            SesionComite.closed_at > sesion.closed_at,
        )
    )
    if later:
        raise ResultadosError(_l("A later session of this call is closed: publish that one instead."))
    if not db.session.scalar(sa.select(sa.func.count(Decision.id)).where(Decision.sesion_id == sesion.id)):
        raise ResultadosError(_l("This session recorded no decisions: there is nothing to publish."))
    sesion.results_published_at = chile.utcnow()
    db.session.flush()
    counts = dict(
        db.session.execute(
            sa.select(Decision.outcome, sa.func.count(Decision.id))
            .where(Decision.sesion_id == sesion.id)
            .group_by(Decision.outcome)
        ).all()
    )
    audit.record(
        actor,
        "comite.results_published",
        sesion,
        after={
            "results_published_at": sesion.results_published_at,
            **{f"count_{Resultado(k).value}": v for k, v in counts.items()},
        },
    )
    enqueue(notify_outcomes, sesion.convocatoria_id)
    _bump_public_cache()


# --- the public page -----------------------------------------------------------------------------------


def score_band(score: float | None, scale_min: int, scale_max: int) -> str | None:
    """The band of whole points a final score (on the rubric's scale, as `Decision.final_score`) falls in,
    with decimal commas: 6.4 on 1–7 → "6,0–7,0". Never the exact score."""
    if score is None or math.isnan(score):
        return None
    value = max(float(scale_min), min(float(scale_max), score))
    low = min(math.floor(value), scale_max - 1)
    return f"{low},0–{low + 1},0"


@dataclass
class FilaSeleccion:
    folio: str
    title: str
    desafio: str
    region: str
    amount: int | None


@dataclass
class FilaRepositorio:
    rank: int | None
    folio: str
    title: str
    desafio: str
    region: str
    band: str | None
    selected: bool


@dataclass
class ResultadosPublicos:
    published_at: Any
    selected: list[FilaSeleccion] = field(default_factory=list)
    by_region: list[tuple[str, list[FilaSeleccion]]] = field(default_factory=list)
    by_desafio: list[tuple[str, list[FilaSeleccion]]] = field(default_factory=list)
    repository: list[FilaRepositorio] = field(default_factory=list)

    @property
    def total_awarded(self) -> int:
        return sum(f.amount or 0 for f in self.selected)


def public_results(convocatoria: Convocatoria) -> ResultadosPublicos | None:
    """What the public results page shows, or None before publication. Only folio, title, challenge, region,
    amount and a score band: no names, RUT, e-mail, phone or organisation."""
    sesion = published_session(convocatoria.id)
    if sesion is None:
        return None
    outcomes = published_outcomes(convocatoria)
    rubrica = db.session.scalar(sa.select(Rubrica).where(Rubrica.convocatoria_id == convocatoria.id))
    low, high = (rubrica.scale_min, rubrica.scale_max) if rubrica else (1, 7)
    rows = db.session.execute(
        sa.select(
            Postulacion.id,
            Postulacion.folio,
            Postulacion.title,
            Postulacion.region,
            Postulacion.requested_amount,
            Desafio.title,
            Desafio.position,
        )
        .join(Desafio, Desafio.id == Postulacion.desafio_id)
        .where(
            Postulacion.convocatoria_id == convocatoria.id,
            sa.or_(Postulacion.status == EstadoPostulacion.ADMISIBLE, Postulacion.id.in_(list(outcomes))),
        )
    ).all()
    result = ResultadosPublicos(published_at=sesion.results_published_at)
    region_groups: dict[str, list[FilaSeleccion]] = defaultdict(list)
    desafio_groups: dict[tuple[int, str], list[FilaSeleccion]] = defaultdict(list)
    for pid, folio, title, region, requested, desafio, position in rows:
        d = outcomes.get(pid)
        region_name = chile.region_name(region or "", region or "—")
        selected = d is not None and d.outcome == Resultado.SELECCIONADA
        if selected:
            amount = d.awarded_amount if d.awarded_amount is not None else requested
            fila = FilaSeleccion(folio or "", title, desafio, region_name, amount)
            result.selected.append(fila)
            region_groups[region or ""].append(fila)
            desafio_groups[(position, desafio)].append(fila)
        result.repository.append(
            FilaRepositorio(
                rank=d.rank if d is not None else None,
                folio=folio or "",
                title=title,
                desafio=desafio,
                region=region_name,
                band=score_band(d.final_score, low, high) if d is not None else None,
                selected=selected,
            )
        )
    region_order = {r.code: i for i, r in enumerate(chile.REGIONS)}
    result.selected.sort(key=lambda f: f.folio)
    result.by_region = [
        (chile.region_name(code, code or "—"), sorted(filas, key=lambda f: f.folio))
        for code, filas in sorted(region_groups.items(), key=lambda kv: region_order.get(kv[0], 99))
    ]
    result.by_desafio = [
        (title, sorted(filas, key=lambda f: f.folio))
        for (_pos, title), filas in sorted(desafio_groups.items())
    ]
    result.repository.sort(key=lambda f: (f.rank is None, f.rank or 0, f.folio))
    return result


# --- the applicants' e-mails ---------------------------------------------------------------------------


@dataclass
class Devolucion:
    """One reviewer's feedback, anonymous: their number among the submission's reviewers."""

    number: int
    scores: list[tuple[str, int | None, str]]  # criterion, value, comment
    overall: str


def feedback_for(postulacion_ids: list[int]) -> dict[int, list[Devolucion]]:
    """The submitted reviews of these submissions, per criterion, with each submission's reviewers numbered
    (1, 2… in the order they were assigned), never named. Two queries whatever the number."""
    if not postulacion_ids:
        return {}
    asignaciones = db.session.execute(
        sa.select(Asignacion.id, Asignacion.postulacion_id, Asignacion.overall_comment)
        .where(Asignacion.postulacion_id.in_(postulacion_ids), Asignacion.status == EstadoAsignacion.ENVIADA)
        .order_by(Asignacion.postulacion_id, Asignacion.id)
    ).all()
    scores: dict[int, list[tuple[str, int | None, str]]] = defaultdict(list)
    if asignaciones:
        rows = db.session.execute(
            sa.select(Puntaje.asignacion_id, Criterio.name, Puntaje.value, Puntaje.comment)
            .join(Criterio, Criterio.id == Puntaje.criterio_id)
            .where(Puntaje.asignacion_id.in_([a.id for a in asignaciones]))
            .order_by(Puntaje.asignacion_id, Criterio.position, Criterio.id)
        ).all()
        for asignacion_id, name, value, comment in rows:
            scores[asignacion_id].append((name, value, comment or ""))
    result: dict[int, list[Devolucion]] = defaultdict(list)
    for asignacion_id, postulacion_id, overall in asignaciones:
        number = len(result[postulacion_id]) + 1
        result[postulacion_id].append(Devolucion(number, scores[asignacion_id], overall or ""))
    return dict(result)


def feedback_of(postulacion_id: int) -> list[Devolucion]:
    return feedback_for([postulacion_id]).get(postulacion_id, [])


NOTIFY_BATCH = 50


def notify_outcomes(convocatoria_id: int) -> int:
    """Job: e-mail every applicant of the call their published outcome (with the reviewers' feedback when
    the call shares it). The decisions are marked notified in the same commit as their messages' jobs (a
    batch at a time), so a re-run or a retried job sends nothing twice; an outcome already told for the
    submission (carried over by a later session) is not sent again. Returns how many e-mails were queued."""
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None:
        return 0
    reglas = db.session.scalar(
        sa.select(ReglasSeleccion).where(ReglasSeleccion.convocatoria_id == convocatoria_id)
    )
    share = reglas.share_feedback if reglas is not None else False
    pending = sorted(d.id for d in published_outcomes(convocatoria).values() if d.notified_at is None)
    told = {
        (pid, Resultado(outcome))
        for pid, outcome in db.session.execute(
            sa.select(Decision.postulacion_id, Decision.outcome).where(
                Decision.convocatoria_id == convocatoria_id, Decision.notified_at.is_not(None)
            )
        )
    }
    sent = 0
    for start in range(0, len(pending), NOTIFY_BATCH):
        decisions = db.session.scalars(
            sa.select(Decision)
            .where(Decision.id.in_(pending[start : start + NOTIFY_BATCH]), Decision.notified_at.is_(None))
            .options(joinedload(Decision.postulacion).joinedload(Postulacion.created_by))
            .order_by(Decision.postulacion_id)
            .with_for_update(of=Decision, skip_locked=True)  # PostgreSQL: a parallel run skips these
        ).all()
        feedback = feedback_for([d.postulacion_id for d in decisions]) if share else {}
        now = chile.utcnow()
        for d in decisions:
            p, outcome = d.postulacion, Resultado(d.outcome)
            owner = p.created_by
            if (p.id, outcome) not in told and owner is not None and owner.email:
                send_email_to(
                    owner,
                    _l(
                        "Results of the call %(call)s: your idea %(folio)s",
                        call=convocatoria.title,
                        folio=p.folio,
                    ),
                    "comite_resultado",
                    postulacion=p,
                    convocatoria=convocatoria,
                    decision=d,
                    outcome=RESULTADO_LABELS.get(outcome, d.outcome),  # lazy: translated in the mail
                    feedback=feedback.get(p.id, []),
                    link=external_url("convocatorias_applicant.detail", postulacion_id=p.id),
                    results_link=external_url("comite_resultados.public", slug=convocatoria.slug),
                )
                sent += 1
            d.notified_at = now
        commit()  # the messages' jobs and the marks go together
    log.info("Committee outcomes of call %s: %s e-mails queued", convocatoria_id, sent)
    return sent


# --- demo data -----------------------------------------------------------------------------------------

DEMO_SECOND_MEMBER = ("comite.dos@demo.fondoidea.cl", "Rodrigo Integrante del Comité")


def seed_demo_second_member(_app: Any = None) -> None:
    """`flask seed-demo`: a second committee member (demo password), so that the committee of the demo
    committee call meets its quorum of two, and someone decides the idea the first member is recused from.
    Idempotent."""
    from idea.cli import DEMO_PASSWORD, ensure_user

    if db.session.scalar(sa.select(User.id).where(User.email == DEMO_SECOND_MEMBER[0])) is None:
        ensure_user(*DEMO_SECOND_MEMBER, Role.COMITE, password=DEMO_PASSWORD)


def connect_seed() -> None:
    from idea.cli import seed_demo_signal

    seed_demo_signal.connect(seed_demo_second_member, weak=False)
