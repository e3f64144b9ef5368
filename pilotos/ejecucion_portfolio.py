"""The fund's portfolio of pilots (admin and leads; a regional lead sees their regions): every pilot across
calls with its figures, late reports and risk reasons, the 16-region table, a server-rendered chart with the
same numbers, and the XLSX export. A fixed number of queries whatever the number of pilots."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from convocatorias.exports import neutralise
from convocatorias.lead_queries import LEAD_ROLES, NEWEST_FIRST
from convocatorias.models import Convocatoria
from idea.chile import REGIONS, REGIONS_BY_CODE
from idea.extensions import db
from idea.models import User
from pilotos import ejecucion as eops
from pilotos.ejecucion_figures import PilotFigures, pilot_figures
from pilotos.ejecucion_models import EstadoPiloto, EstadoReporte, Piloto, ReportePiloto


def scope_clause(user: User) -> sa.ColumnElement[bool]:
    """The pilots `user` may see: each lead assignment opens its call and/or region (as for submissions)."""
    clauses: list[sa.ColumnElement[bool]] = []
    for assignment in user.roles:
        if assignment.role not in LEAD_ROLES:
            continue
        parts: list[sa.ColumnElement[bool]] = []
        if assignment.convocatoria_id is not None:
            parts.append(Piloto.convocatoria_id == assignment.convocatoria_id)
        if assignment.region is not None:
            parts.append(Piloto.region == assignment.region)
        if not parts:
            return sa.true()
        clauses.append(sa.and_(*parts))
    return sa.or_(*clauses) if clauses else sa.false()


@dataclass(frozen=True)
class Filtros:
    convocatoria_id: int | None = None
    region: str | None = None
    status: str | None = None

    def as_args(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in {
                "convocatoria": self.convocatoria_id,
                "region": self.region,
                "estado": self.status,
            }.items()
            if v not in (None, "")
        }


@dataclass
class PilotRow:
    piloto: Piloto
    call_title: str
    figures: PilotFigures
    late: int
    reasons: list[str]


@dataclass
class RegionRow:
    code: str
    name: str
    pilots: int = 0
    en_ejecucion: int = 0
    cerrado: int = 0
    awarded: int = 0
    executed: int = 0
    reached: int = 0
    at_risk: int = 0


@dataclass
class Portfolio:
    rows: list[PilotRow]
    regions: list[RegionRow]
    totals: RegionRow
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def at_risk(self) -> list[PilotRow]:
        return [r for r in self.rows if r.reasons]


def _pilots_stmt(user: User, filtros: Filtros) -> sa.Select[Any]:
    stmt = sa.select(Piloto.id).where(scope_clause(user))
    if filtros.convocatoria_id:
        stmt = stmt.where(Piloto.convocatoria_id == filtros.convocatoria_id)
    if filtros.region:
        stmt = stmt.where(Piloto.region == filtros.region)
    if filtros.status:
        stmt = stmt.where(Piloto.status == EstadoPiloto(filtros.status))
    return stmt


def reports_by_pilot(ids_stmt: sa.Select[Any]) -> dict[int, list[ReportePiloto]]:
    """Every report of the pilots selected by `ids_stmt`, in calendar order, one query."""
    out: dict[int, list[ReportePiloto]] = defaultdict(list)
    for reporte in db.session.scalars(
        sa.select(ReportePiloto)
        .where(ReportePiloto.piloto_id.in_(ids_stmt.scalar_subquery()))
        .order_by(ReportePiloto.piloto_id, ReportePiloto.number)
    ):
        out[reporte.piloto_id].append(reporte)
    return out


def pilot_row(piloto: Piloto, call_title: str, reportes: list[ReportePiloto], today: date) -> PilotRow:
    approved = [r.data or {} for r in reportes if r.status == EstadoReporte.APROBADO]
    figures = pilot_figures(piloto.plan or {}, piloto.amount, piloto.beneficiaries_planned, approved)
    late = sum(1 for r in reportes if eops.is_late(r.status, r.due_on, today))
    ended = piloto.status == EstadoPiloto.CERRADO or today > piloto.ends_on
    return PilotRow(piloto, call_title, figures, late, eops.risk_reasons(figures, late, ended))


def build(user: User, filtros: Filtros, today: date | None = None) -> Portfolio:
    today = today or eops.today_cl()
    ids = _pilots_stmt(user, filtros)
    pilots = db.session.execute(
        sa.select(Piloto, Convocatoria.title)
        .join(Convocatoria, Convocatoria.id == Piloto.convocatoria_id)
        .where(Piloto.id.in_(ids.scalar_subquery()))
        .order_by(Convocatoria.year.desc(), Convocatoria.id.desc(), Piloto.region, Piloto.name, Piloto.id)
    ).all()
    reportes = reports_by_pilot(ids)
    rows = [pilot_row(p, title, reportes.get(p.id, []), today) for p, title in pilots]
    regions = {r.code: RegionRow(r.code, r.name) for r in REGIONS}
    totals = RegionRow("", _("Total"))
    by_status = {s.value: 0 for s in EstadoPiloto}
    for row in rows:
        p = row.piloto
        by_status[p.status.value] += 1
        targets = [totals]
        if p.region in regions:
            targets.append(regions[p.region])
        for target in targets:
            target.pilots += 1
            target.en_ejecucion += p.status == EstadoPiloto.EN_EJECUCION
            target.cerrado += p.status == EstadoPiloto.CERRADO
            target.awarded += p.amount
            target.executed += row.figures.executed
            target.reached += row.figures.reached
            target.at_risk += bool(row.reasons)
    return Portfolio(rows, list(regions.values()), totals, by_status)


def calls_in_scope(user: User) -> list[tuple[int, str]]:
    """The calls that have pilots the user sees (for the filter), one query."""
    stmt = (
        sa.select(Convocatoria.id, Convocatoria.title)
        .where(
            Convocatoria.id.in_(sa.select(Piloto.convocatoria_id).where(scope_clause(user)).scalar_subquery())
        )
        .order_by(*NEWEST_FIRST)
    )
    return [(i, t) for i, t in db.session.execute(stmt)]


# --- the chart -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartBar:
    y: int
    label: str
    pilots: int
    at_risk: int
    pilots_width: float
    risk_width: float


CHART_WIDTH = 340
ROW = 22
LABEL = 110


def region_chart(regions: list[RegionRow]) -> dict[str, Any]:
    """Bars per region: pilots, and those at risk (the numbers of the region table)."""
    top = max([r.pilots for r in regions], default=0) or 1
    span = CHART_WIDTH - LABEL - 40
    bars = [
        ChartBar(
            y=8 + i * ROW,
            label=REGIONS_BY_CODE[r.code].roman + " " + r.name[:14],
            pilots=r.pilots,
            at_risk=r.at_risk,
            pilots_width=r.pilots / top * span,
            risk_width=r.at_risk / top * span,
        )
        for i, r in enumerate(regions)
    ]
    return {"bars": bars, "width": CHART_WIDTH, "height": 16 + len(regions) * ROW, "label_x": LABEL}


# --- XLSX ------------------------------------------------------------------------------------------------


def _pct(value: Any) -> float | None:
    return None if value is None else float(value)


def _append(ws: Any, row: Iterable[Any]) -> None:
    # openpyxl stores a text starting with "=" as a formula: what teams typed (a name) is kept as text.
    ws.append([neutralise(value) for value in row])


def xlsx_bytes(portfolio: Portfolio, status_labels: dict[str, Any]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = _("Pilots")
    _append(
        ws,
        (
            _("Call"),
            _("Region"),
            _("Pilot"),
            _("Status"),
            _("Amount awarded"),
            _("Executed"),
            _("Budget execution (%)"),
            _("Beneficiaries planned"),
            _("Beneficiaries reached"),
            _("Coverage (%)"),
            _("Spending per beneficiary"),
            _("Late reports"),
            _("At risk because"),
        ),
    )
    for row in portfolio.rows:
        p, f = row.piloto, row.figures
        _append(
            ws,
            (
                row.call_title,
                REGIONS_BY_CODE[p.region].name if p.region in REGIONS_BY_CODE else "",
                p.name,
                str(status_labels[p.status.value]),
                p.amount,
                f.executed,
                _pct(f.budget_execution.percent),
                p.beneficiaries_planned,
                f.reached,
                _pct(f.coverage.percent),
                _pct(f.spending_per_beneficiary.value.quantize(1))
                if f.spending_per_beneficiary.value
                else None,
                row.late,
                "; ".join(row.reasons),
            ),
        )
    ws = wb.create_sheet(_("Regions"))
    _append(
        ws,
        (
            _("Region"),
            _("Pilots"),
            _("In execution"),
            _("Closed"),
            _("Amount awarded"),
            _("Executed"),
            _("Beneficiaries reached"),
            _("At risk"),
        ),
    )
    for r in [*portfolio.regions, portfolio.totals]:
        _append(
            ws, (r.name, r.pilots, r.en_ejecucion, r.cerrado, r.awarded, r.executed, r.reached, r.at_risk)
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
