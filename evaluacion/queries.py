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
    Criterio,
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


PAGE_SIZE = 50  # assignments or ranking rows per page
PREVIEW = 10  # ranking rows and outliers the dashboard shows before linking to the full list


@dataclass
class Progress:
    label: str
    total: int = 0
    submitted: int = 0

    @property
    def percent(self) -> int:
        return round(100 * self.submitted / self.total) if self.total else 0


@dataclass
class ListPage:
    """One page of a list already in memory, with what the `pager` macro reads."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @classmethod
    def of(cls, rows: list[Any], page: int, per_page: int | None = None) -> ListPage:
        per_page = per_page or PAGE_SIZE
        last = max(1, -(-len(rows) // per_page))
        page = min(max(1, page), last)
        return cls(rows[(page - 1) * per_page : page * per_page], page, per_page, len(rows))

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

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


@dataclass
class Scores:
    """The figures every evaluation page shares: the aggregation and who the reviewers are."""

    rubrica: Rubrica
    aggregation: aggregation.Aggregation
    reviewers: dict[int, Any]  # id -> row with .name, every reviewer with an assignment in scope


@dataclass
class Dashboard(Scores):
    assignments: Any = None  # a page of Asignacion (flask-sqlalchemy pagination)
    postulaciones: dict[int, Any] = field(default_factory=dict)  # id -> row (id, folio, title) shown here
    by_reviewer: list[Progress] = field(default_factory=list)
    by_region: list[Progress] = field(default_factory=list)
    histogram: list[dict[str, Any]] = field(default_factory=list)
    unassigned: int = 0
    ranking: list[aggregation.SubmissionSummary] = field(default_factory=list)  # the first PREVIEW
    outliers: list[aggregation.SubmissionSummary] = field(default_factory=list)  # the first PREVIEW


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


def _in_scope(user: User, convocatoria: Convocatoria) -> sa.ColumnElement[bool]:
    return sa.and_(Postulacion.convocatoria_id == convocatoria.id, lead_queries.scope_clause(user))


def scores(user: User, convocatoria: Convocatoria, rubrica: Rubrica) -> Scores:
    """The aggregation over the submitted evaluations in `user`'s scope, in two queries.

    The criteria are summed in SQL (weight x value per evaluation), so Python sees one row per evaluation
    rather than one per criterion; `aggregation.weighted_score` makes it the same figure `aggregate` gives.
    """
    in_scope = _in_scope(user, convocatoria)
    weighted_sum = sa.func.sum(Criterio.weight * Puntaje.value)
    stmt = (
        sa.select(Asignacion.user_id, Asignacion.postulacion_id, weighted_sum, sa.func.count(Puntaje.id))
        .select_from(Asignacion)
        .join(Postulacion, Asignacion.postulacion_id == Postulacion.id)
        .join(Puntaje, Puntaje.asignacion_id == Asignacion.id)
        .join(Criterio, sa.and_(Criterio.id == Puntaje.criterio_id, Criterio.rubrica_id == rubrica.id))
        .where(in_scope, Asignacion.status == EstadoAsignacion.ENVIADA, Puntaje.value.is_not(None))
        .group_by(Asignacion.id, Asignacion.user_id, Asignacion.postulacion_id)
    )
    needed = len(rubrica.criterios)
    weighted: dict[tuple[int, int], float] = {}
    incomplete: list[tuple[int, int]] = []
    for user_id, postulacion_id, total, given in db.session.execute(stmt):
        if given < needed:
            incomplete.append((user_id, postulacion_id))
        else:
            weighted[(user_id, postulacion_id)] = aggregation.weighted_score(total)
    result = aggregation.aggregate_weighted(
        weighted, incomplete, pass_mark=rubrica.pass_mark, outlier_threshold=rubrica.outlier_threshold
    )
    reviewers = {
        row.id: row
        for row in db.session.execute(
            sa.select(User.id, User.name).where(
                User.id.in_(sa.select(Asignacion.user_id).join(Asignacion.postulacion).where(in_scope))
            )
        )
    }
    return Scores(rubrica=rubrica, aggregation=result, reviewers=reviewers)


def postulacion_rows(ids: set[int]) -> dict[int, Any]:
    """Folio and title of the submissions a page shows, in one query."""
    if not ids:
        return {}
    stmt = sa.select(Postulacion.id, Postulacion.folio, Postulacion.title).where(
        Postulacion.id.in_(sorted(ids))
    )
    return {row.id: row for row in db.session.execute(stmt)}


def postulacion_by_folio(convocatoria_id: int, folio: str) -> Postulacion | None:
    return db.session.scalar(
        sa.select(Postulacion).where(
            Postulacion.convocatoria_id == convocatoria_id, Postulacion.folio == folio
        )
    )


def dashboard(user: User, convocatoria: Convocatoria, rubrica: Rubrica, page: int = 1) -> Dashboard:
    """Everything the lead's dashboard shows, for the submissions in `user`'s scope, in a fixed number of
    queries: progress counted in SQL, the aggregation from one row per evaluation, one page of assignments,
    and folio and title only of the submissions on the page."""
    from idea.chile import region_name

    in_scope = _in_scope(user, convocatoria)
    base = scores(user, convocatoria, rubrica)
    active = sa.and_(in_scope, Asignacion.status != EstadoAsignacion.RETIRADA)
    submitted = sa.func.sum(sa.case((Asignacion.status == EstadoAsignacion.ENVIADA, 1), else_=0))
    by_reviewer = [
        Progress(base.reviewers[uid].name if uid in base.reviewers else str(uid), total, done or 0)
        for uid, total, done in db.session.execute(
            sa.select(Asignacion.user_id, sa.func.count(Asignacion.id), submitted)
            .join(Asignacion.postulacion)
            .where(active)
            .group_by(Asignacion.user_id)
        )
    ]
    by_region = [
        Progress(region_name(region, region) if region else "—", total, done or 0)
        for region, total, done in db.session.execute(
            sa.select(Postulacion.region, sa.func.count(Asignacion.id), submitted)
            .join(Asignacion.postulacion)
            .where(active)
            .group_by(Postulacion.region)
        )
    ]
    has_reviewer = (
        sa.select(Asignacion.id)
        .where(Asignacion.postulacion_id == Postulacion.id, Asignacion.status != EstadoAsignacion.RETIRADA)
        .exists()
    )
    unassigned = db.session.scalar(
        sa.select(sa.func.count(Postulacion.id)).where(
            in_scope, Postulacion.status == EstadoPostulacion.ADMISIBLE, ~has_reviewer
        )
    )
    assignments = db.paginate(
        sa.select(Asignacion)
        .join(Asignacion.postulacion)
        .where(active)
        .order_by(Postulacion.folio_number, Asignacion.postulacion_id, Asignacion.id),
        page=page,
        per_page=PAGE_SIZE,
        error_out=False,
    )
    agg = base.aggregation
    ranking = agg.ranking()[:PREVIEW]
    outliers = [agg.submissions[sid] for sid in agg.outliers[:PREVIEW]]
    shown = {a.postulacion_id for a in assignments.items} | {s.submission_id for s in ranking + outliers}
    values = [s.score for s in agg.submissions.values() if s.score is not None]
    return Dashboard(
        rubrica=rubrica,
        aggregation=agg,
        reviewers=base.reviewers,
        assignments=assignments,
        postulaciones=postulacion_rows(shown),
        by_reviewer=sorted(by_reviewer, key=lambda p: p.label),
        by_region=sorted(by_region, key=lambda p: p.label),
        histogram=_histogram(values, rubrica.scale_min, rubrica.scale_max),
        unassigned=unassigned or 0,
        ranking=ranking,
        outliers=outliers,
    )


RANKING_ORDERS = ("interno", "normalizado", "discrepancia")


def ranking_page(
    user: User, convocatoria: Convocatoria, rubrica: Rubrica, order: str, page: int
) -> tuple[Scores, ListPage, dict[int, Any]]:
    """One page of the whole ranking: by internal score, by normalised score, or the outliers only
    (largest disagreement first), with folio and title of the rows shown."""
    base = scores(user, convocatoria, rubrica)
    agg = base.aggregation
    if order == "discrepancia":
        rows = [agg.submissions[sid] for sid in agg.outliers]
    else:
        rows = agg.ranking(normalised=order == "normalizado")
    listed = ListPage.of(rows, page)
    return base, listed, postulacion_rows({s.submission_id for s in listed.items})


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
