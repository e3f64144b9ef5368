"""Read side of the evaluation phase: the solver's inputs, a reviewer's work, the lead's dashboard figures.

Every function runs a fixed number of queries whatever the number of rows (the dashboard is tested for it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from convocatorias import lead_queries
from convocatorias.models import Convocatoria, EstadoPostulacion, Postulacion
from evaluacion import aggregation
from evaluacion import assignment as solver
from evaluacion.models import (
    Asignacion,
    Capacitacion,
    Conflicto,
    EstadoAsignacion,
    Puntaje,
    Rubrica,
    TipoConflicto,
)
from idea.extensions import db
from idea.models import Role, RoleAssignment, User


def rubrica_of(convocatoria_id: int) -> Rubrica | None:
    return db.session.scalar(sa.select(Rubrica).where(Rubrica.convocatoria_id == convocatoria_id))


def training_of(user: User, convocatoria_id: int) -> Capacitacion | None:
    return db.session.scalar(
        sa.select(Capacitacion).where(
            Capacitacion.user_id == user.id, Capacitacion.convocatoria_id == convocatoria_id
        )
    )


def reviewer_roles(convocatoria_id: int) -> list[RoleAssignment]:
    """The reviewer role assignments that open this call (bound to it or to every call)."""
    stmt = (
        sa.select(RoleAssignment)
        .where(
            RoleAssignment.role == Role.EVALUADOR,
            sa.or_(
                RoleAssignment.convocatoria_id.is_(None), RoleAssignment.convocatoria_id == convocatoria_id
            ),
        )
        .options(joinedload(RoleAssignment.user))
        .order_by(RoleAssignment.user_id)
    )
    return list(db.session.scalars(stmt))


def reviewers_of(convocatoria_id: int) -> list[User]:
    seen: dict[int, User] = {}
    for role in reviewer_roles(convocatoria_id):
        if role.user.is_active:
            seen.setdefault(role.user_id, role.user)
    return list(seen.values())


def admissible_stmt(convocatoria_id: int) -> sa.Select[tuple[Postulacion]]:
    return (
        sa.select(Postulacion)
        .where(
            Postulacion.convocatoria_id == convocatoria_id, Postulacion.status == EstadoPostulacion.ADMISIBLE
        )
        .options(joinedload(Postulacion.organizacion))
        .order_by(Postulacion.folio_number, Postulacion.id)
    )


@dataclass
class SolverContext:
    """Everything the assignment solver needs about one call, in its plain data."""

    submissions: dict[int, solver.Submission]
    reviewers: list[solver.Reviewer]
    conflicts: list[solver.Conflict]
    active: list[Asignacion]
    keep: list[tuple[int, int]]
    removed: list[tuple[int, int]]
    k: int
    exclude_own_region: bool


def _conflict(c: Conflicto) -> solver.Conflict:
    if c.tipo == TipoConflicto.POSTULACION:
        return solver.Conflict(c.user_id, submission_id=c.postulacion_id)
    if c.tipo == TipoConflicto.ORGANIZACION:
        return solver.Conflict(c.user_id, organisation_rut=c.value)
    if c.tipo == TipoConflicto.REGION:
        return solver.Conflict(c.user_id, region=c.value)
    return solver.Conflict(c.user_id, person=c.value)


def solver_context(convocatoria: Convocatoria) -> SolverContext:
    rubrica = rubrica_of(convocatoria.id)
    submissions = {
        p.id: solver.Submission(p.id, p.folio or str(p.id), p.region, p.organizacion.rut)
        for p in db.session.scalars(admissible_stmt(convocatoria.id)).unique()
    }
    regions: dict[int, str | None] = {}
    for role in reviewer_roles(convocatoria.id):
        if role.user.is_active:
            # A reviewer bound to a region counts as from that region (for the own-region rule).
            regions[role.user_id] = regions.get(role.user_id) or role.region
    reviewers = [solver.Reviewer(uid, region) for uid, region in sorted(regions.items())]
    conflicts = [
        _conflict(c)
        for c in db.session.scalars(sa.select(Conflicto).where(Conflicto.convocatoria_id == convocatoria.id))
    ]
    assignments = list(
        db.session.scalars(
            sa.select(Asignacion)
            .where(Asignacion.convocatoria_id == convocatoria.id)
            .options(joinedload(Asignacion.postulacion))
        )
    )
    known = set(regions)
    pairs = [
        (a, (a.user_id, a.postulacion_id))
        for a in assignments
        if a.user_id in known and a.postulacion_id in submissions
    ]
    return SolverContext(
        submissions=submissions,
        reviewers=reviewers,
        conflicts=conflicts,
        active=[a for a in assignments if a.is_active],
        keep=[pair for a, pair in pairs if a.is_active],
        removed=[pair for a, pair in pairs if not a.is_active],
        k=rubrica.reviewers_per_submission if rubrica else 2,
        exclude_own_region=rubrica.exclude_own_region if rubrica else False,
    )


def unscored_count(convocatoria_id: int) -> int:
    """Active assignments neither submitted nor released by the lead: they hold the call in `evaluacion`."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(Asignacion.id)).where(
                Asignacion.convocatoria_id == convocatoria_id,
                Asignacion.status.in_([EstadoAsignacion.PENDIENTE, EstadoAsignacion.BORRADOR]),
                Asignacion.released_at.is_(None),
            )
        )
        or 0
    )


def my_assignments(user: User) -> list[Asignacion]:
    stmt = (
        sa.select(Asignacion)
        .where(Asignacion.user_id == user.id, Asignacion.status != EstadoAsignacion.RETIRADA)
        .options(joinedload(Asignacion.postulacion).joinedload(Postulacion.convocatoria))
        .order_by(Asignacion.convocatoria_id, Asignacion.id)
    )
    return list(db.session.scalars(stmt).unique())


def my_trainings(user: User) -> set[int]:
    return set(
        db.session.scalars(sa.select(Capacitacion.convocatoria_id).where(Capacitacion.user_id == user.id))
    )


def my_conflicts(user: User, convocatoria_id: int) -> list[Conflicto]:
    return list(
        db.session.scalars(
            sa.select(Conflicto)
            .where(Conflicto.user_id == user.id, Conflicto.convocatoria_id == convocatoria_id)
            .options(joinedload(Conflicto.postulacion))
            .order_by(Conflicto.id)
        )
    )


# --- the lead's dashboard ----------------------------------------------------------------------------


@dataclass
class Progress:
    label: str
    total: int = 0
    submitted: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.submitted / self.total) if self.total else 0


@dataclass
class Dashboard:
    rubrica: Rubrica
    assignments: list[Asignacion]
    postulaciones: dict[int, Postulacion]
    reviewers: dict[int, Any]  # id -> row with .name
    by_reviewer: list[Progress]
    by_region: list[Progress]
    aggregation: aggregation.Aggregation
    histogram: list[dict[str, Any]] = field(default_factory=list)
    unassigned: list[Postulacion] = field(default_factory=list)


def _histogram(values: list[float], low: int, high: int) -> list[dict[str, Any]]:
    """Counts of internal scores per whole-point bin [n, n+1) (the top value in the last bin)."""
    bins = Counter(min(int(v), high - 1) for v in values)
    top = max(bins.values(), default=0)
    return [
        {
            "label": f"{n}–{n + 1}",
            "count": bins.get(n, 0),
            "height": round(100 * bins.get(n, 0) / top) if top else 0,
        }
        for n in range(low, high)
    ]


def dashboard(user: User, convocatoria: Convocatoria, rubrica: Rubrica) -> Dashboard:
    """Everything the lead's dashboard shows, for the submissions in `user`'s scope, in a fixed number of
    queries."""
    from idea.chile import region_name

    in_scope = sa.and_(Postulacion.convocatoria_id == convocatoria.id, lead_queries.scope_clause(user))
    # A fixed number of queries: no IN-batched eager loads, whose number grows with the rows.
    postulaciones = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Postulacion)
            .where(in_scope, Postulacion.status == EstadoPostulacion.ADMISIBLE)
            .order_by(Postulacion.folio_number, Postulacion.id)
        )
    }
    assignments = list(
        db.session.scalars(
            sa.select(Asignacion)
            .join(Asignacion.postulacion)
            .where(in_scope, Asignacion.status != EstadoAsignacion.RETIRADA)
            .order_by(Asignacion.postulacion_id, Asignacion.id)
        )
    )
    given: dict[int, list[tuple[int, int]]] = {}
    for asignacion_id, criterio_id, value in db.session.execute(
        sa.select(Puntaje.asignacion_id, Puntaje.criterio_id, Puntaje.value)
        .join(Asignacion, Puntaje.asignacion_id == Asignacion.id)
        .join(Postulacion, Asignacion.postulacion_id == Postulacion.id)
        .where(in_scope, Asignacion.status == EstadoAsignacion.ENVIADA, Puntaje.value.is_not(None))
    ):
        given.setdefault(asignacion_id, []).append((criterio_id, value))
    reviewers = {
        row.id: row
        for row in db.session.execute(
            sa.select(User.id, User.name).where(
                User.id.in_(sa.select(Asignacion.user_id).join(Asignacion.postulacion).where(in_scope))
            )
        )
    }

    per_reviewer: dict[int, Progress] = {}
    per_region: dict[str, Progress] = {}
    assigned: set[int] = set()
    weights = {c.id: c.name for c in rubrica.criterios}
    scores: list[aggregation.Score] = []
    for a in assignments:
        assigned.add(a.postulacion_id)
        reviewer = reviewers.get(a.user_id)
        rp = per_reviewer.setdefault(a.user_id, Progress(reviewer.name if reviewer else str(a.user_id)))
        region = postulaciones[a.postulacion_id].region if a.postulacion_id in postulaciones else None
        gp = per_region.setdefault(region or "", Progress(region_name(region, region) if region else "—"))
        for progress in (rp, gp):
            progress.total += 1
            progress.submitted += a.is_submitted
        if a.is_submitted:
            scores.extend(
                aggregation.Score(a.user_id, a.postulacion_id, weights[criterio_id], value)
                for criterio_id, value in given.get(a.id, ())
                if criterio_id in weights
            )
    rubric = aggregation.Rubric(
        tuple(aggregation.Criterion(c.name, c.weight) for c in rubrica.criterios),
        aggregation.Scale(rubrica.scale_min, rubrica.scale_max, rubrica.pass_mark),
    )
    result = aggregation.aggregate(rubric, scores, outlier_threshold=rubrica.outlier_threshold)
    values = [s.score for s in result.submissions.values() if s.score is not None]
    return Dashboard(
        rubrica=rubrica,
        assignments=assignments,
        postulaciones=postulaciones,
        reviewers=reviewers,
        by_reviewer=sorted(per_reviewer.values(), key=lambda p: p.label),
        by_region=sorted(per_region.values(), key=lambda p: p.label),
        aggregation=result,
        histogram=_histogram(values, rubrica.scale_min, rubrica.scale_max),
        unassigned=[p for pid, p in postulaciones.items() if pid not in assigned],
    )


def export_rows(user: User, convocatoria: Convocatoria, rubrica: Rubrica) -> list[list[Any]]:
    """Every submitted score in the lead's scope: one row per reviewer, submission and criterion."""
    stmt = (
        sa.select(
            Postulacion.folio,
            Postulacion.title,
            Postulacion.region,
            User.name,
            User.email,
            Asignacion.status,
            Asignacion.submitted_at,
            Puntaje.criterio_id,
            Puntaje.value,
            Puntaje.comment,
            Asignacion.overall_comment,
        )
        .select_from(Puntaje)
        .join(Asignacion, Puntaje.asignacion_id == Asignacion.id)
        .join(Postulacion, Asignacion.postulacion_id == Postulacion.id)
        .join(User, Asignacion.user_id == User.id)
        .where(
            Postulacion.convocatoria_id == convocatoria.id,
            lead_queries.scope_clause(user),
            Asignacion.status == EstadoAsignacion.ENVIADA,
        )
        .order_by(Postulacion.folio_number, User.name, Puntaje.criterio_id)
    )
    names = {c.id: (c.name, c.weight) for c in rubrica.criterios}
    rows = []
    for row in db.session.execute(stmt):
        name, weight = names.get(row.criterio_id, ("?", 0))
        rows.append(
            [
                row.folio,
                row.title,
                row.region or "",
                row.name,
                row.email,
                name,
                weight,
                row.value,
                row.comment,
                row.overall_comment,
                row.submitted_at,
            ]
        )
    return rows
