"""The portfolio of pilots: numbers against hand-computed values, the 16-region table, risk reasons, the
regional lead's scope, the XLSX export, and a number of queries that does not grow with the pilots."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from openpyxl import load_workbook

from idea.extensions import db
from idea.models import Role
from pilotos import ejecucion as eops
from pilotos import ejecucion_portfolio as portfolio_q
from pilotos.ejecucion_models import EstadoReporte, Piloto, ReportePiloto
from tests.pilotos.conftest import Formacion
from tests.pilotos.ejecucion_fixtures import ACTIVIDADES, INDICADORES, PRESUPUESTO


def _data(executed: tuple[int, int], reached: int, actual: str = "35") -> dict[str, Any]:
    return {
        "indicadores": [{"name": INDICADORES[0]["name"], "actual": actual}],
        "beneficiarios": {"total": reached, "mujeres": reached, "hombres": 0, "otro": 0, "por_region": {}},
        "gastos": [
            {"item": line["item"], "executed": n} for line, n in zip(PRESUPUESTO, executed, strict=True)
        ],
    }


def make_pilots(f: Formacion, amount: int = 10_000_000) -> list[Piloto]:
    """A pilot per team of `f`, running from 60 days ago to 120 days ahead, with three reports due in the
    future and nothing reported."""
    today = eops.today_cl()
    pilots = []
    for equipo in f.equipos:
        piloto = Piloto(
            equipo_id=equipo.id,
            convocatoria_id=f.convocatoria.id,
            region=equipo.region,
            name=equipo.name,
            amount=amount,
            beneficiaries_planned=100,
            starts_on=today - timedelta(days=60),
            ends_on=today + timedelta(days=120),
            plan={"presupuesto": PRESUPUESTO, "indicadores": INDICADORES, "actividades": ACTIVIDADES},
        )
        for n in (1, 2, 3):
            piloto.reportes.append(
                ReportePiloto(
                    number=n,
                    period_start=today - timedelta(days=60),
                    period_end=today,
                    due_on=today + timedelta(days=10 * n),
                    data={},
                )
            )
        db.session.add(piloto)
        pilots.append(piloto)
    db.session.commit()
    return pilots


def _approve(reporte: ReportePiloto, data: dict[str, Any]) -> None:
    reporte.status = EstadoReporte.APROBADO
    reporte.data = data


def three_pilots(formacion: Callable[..., Formacion]) -> list[Piloto]:
    """Santiago on track; a Biobío pilot over budget; a Biobío pilot with a late report that has ended."""
    santiago, over, late = make_pilots(formacion(regions=("13", "08", "08"), rejected=0))
    _approve(santiago.reportes[0], _data((3_000_000, 1_000_000), 40))
    santiago.reportes[1].status = EstadoReporte.ENVIADO  # sent, not approved: not counted
    santiago.reportes[1].data = _data((5_000_000, 0), 10)
    _approve(over.reportes[0], _data((9_000_000, 3_000_000), 20))
    late.reportes[0].due_on = eops.today_cl() - timedelta(days=1)
    late.ends_on = eops.today_cl() - timedelta(days=1)
    db.session.commit()
    return [santiago, over, late]


def test_portfolio_numbers_against_hand_computed_values(
    formacion: Callable[..., Formacion], login_as: Any, app: Any
) -> None:
    santiago, over, late = three_pilots(formacion)
    admin = login_as(Role.ADMIN)
    with app.test_request_context():
        data = portfolio_q.build(admin.user, portfolio_q.Filtros())
    t = data.totals
    assert (t.pilots, t.awarded, t.executed, t.reached, t.at_risk) == (3, 30_000_000, 16_000_000, 60, 2)
    assert [r.code for r in data.regions] == [
        "15", "01", "02", "03", "04", "05", "13", "06", "07", "16", "08", "09", "14", "10", "11", "12"
    ]  # fmt: skip
    regions = {r.code: r for r in data.regions}
    assert (regions["13"].pilots, regions["13"].executed, regions["13"].reached, regions["13"].at_risk) == (
        1,
        4_000_000,
        40,
        0,
    )
    assert (regions["08"].pilots, regions["08"].awarded, regions["08"].executed, regions["08"].at_risk) == (
        2,
        20_000_000,
        12_000_000,
        2,
    )
    reasons = {row.piloto.id: row.reasons for row in data.rows}
    assert reasons[santiago.id] == []
    assert reasons[over.id] == ["ejecución presupuestaria 120,0 % (fuera de 90–110 %)"]
    assert reasons[late.id] == [
        "1 informe(s) atrasado(s)",
        "ejecución presupuestaria 0,0 % (fuera de 90–110 %)",
    ]
    page = admin.get("/gestion/ejecucion/portafolio").get_data(as_text=True)
    assert "Arica y Parinacota" in page and "Magallanes y de la Antártica Chilena" in page  # all 16 listed
    assert "$16.000.000" in page and "$30.000.000" in page
    assert "<svg" in page and "Biobío 2 (2)" in page  # the chart's title has the table's numbers
    # Filters.
    only_santiago = admin.get("/gestion/ejecucion/portafolio?region=13").get_data(as_text=True)
    assert santiago.name in only_santiago and over.name not in only_santiago


def test_an_indicator_moving_away_puts_a_pilot_at_risk(
    formacion: Callable[..., Formacion], login_as: Any, app: Any
) -> None:
    (piloto,) = make_pilots(formacion(regions=("13",), rejected=0))
    _approve(piloto.reportes[0], _data((4_500_000, 4_500_000), 10, actual="10"))  # baseline 20, target 60
    db.session.commit()
    with app.test_request_context():
        row = portfolio_q.build(login_as(Role.ADMIN).user, portfolio_q.Filtros()).rows[0]
    assert row.reasons == ["indicadores que se alejan de la meta: Familias con red de apoyo"]


def test_a_regional_lead_sees_their_regions_only_and_the_xlsx_opens(
    formacion: Callable[..., Formacion], login_as: Any, app: Any
) -> None:
    santiago, over, late = three_pilots(formacion)
    over.name = '=HYPERLINK("http://evil.example","Ver")'  # what a team typed as its organisation's name
    db.session.commit()
    lead = login_as(Role.ENCARGADO_TECNICO, region="08")
    assert lead.get("/gestion/ejecucion/portafolio").status_code == 200
    with app.test_request_context():
        data = portfolio_q.build(lead.user, portfolio_q.Filtros())
        assert {row.piloto.id for row in data.rows} == {over.id, late.id}
        assert data.totals.awarded == 20_000_000
        # Asking for Santiago's pilots shows none.
        assert portfolio_q.build(lead.user, portfolio_q.Filtros(region="13")).rows == []
    response = lead.get("/gestion/ejecucion/portafolio.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    pilots = list(workbook["Pilotos"].iter_rows(values_only=True))
    assert pilots[0][:4] == ("Convocatoria", "Región", "Piloto", "Estado")
    assert sorted(r[5] for r in pilots[1:]) == [0, 12_000_000]
    assert {r[1] for r in pilots[1:]} == {"Biobío"}
    # Written as text, never as a formula the spreadsheet would run.
    assert """'=HYPERLINK("http://evil.example","Ver")""" in {r[2] for r in pilots[1:]}
    regions = list(workbook["Regiones"].iter_rows(values_only=True))
    assert len(regions) == 1 + 16 + 1
    assert regions[-1][1:] == (2, 2, 0, 20_000_000, 12_000_000, 20, 2)
    # Teams and applicants do not reach it.
    assert login_as(Role.POSTULANTE).get("/gestion/ejecucion/portafolio").status_code == 403


def test_portfolio_queries_do_not_grow_with_the_pilots(
    formacion: Callable[..., Formacion], login_as: Any, count_queries: list[str]
) -> None:
    admin = login_as(Role.ADMIN)

    def queries(n: int) -> int:
        pilots = make_pilots(
            formacion(regions=tuple(["13", "08", "05"][i % 3] for i in range(n)), rejected=0)
        )
        for p in pilots:
            _approve(p.reportes[0], _data((1_000_000, 500_000), 5))
        db.session.commit()
        db.session.expire_all()
        count_queries.clear()
        assert admin.get("/gestion/ejecucion/portafolio").status_code == 200
        page_queries = len(count_queries)
        count_queries.clear()
        assert admin.get("/gestion/ejecucion/portafolio.xlsx").status_code == 200
        return page_queries + len(count_queries)

    small = queries(3)
    assert queries(30) == small  # 33 pilots listed now


def test_the_demo_data_has_a_pilot_in_every_situation(app: Any, login_as: Any) -> None:
    from pilotos.ejecucion_seed import seed_demo_ejecucion

    assert seed_demo_ejecucion() is not None
    db.session.commit()
    assert seed_demo_ejecucion() is None  # idempotent
    with app.test_request_context():
        data = portfolio_q.build(login_as(Role.ADMIN).user, portfolio_q.Filtros())
    by_region = {(row.piloto.region, row.piloto.status.value): row for row in data.rows}
    assert len(data.rows) == 6 and data.totals.cerrado == 1
    reasons = " | ".join("; ".join(row.reasons) for row in data.rows)
    assert "1 informe(s) atrasado(s)" in reasons
    assert "ejecución presupuestaria 140,0 %" in reasons
    assert "indicadores que se alejan de la meta" in reasons
    own = by_region[("06", "en_ejecucion")]
    assert [r.status.value for r in own.piloto.reportes][:2] == ["aprobado", "con_observaciones"]
    assert own.piloto.reportes[1].historial[-1].comment
    assert not by_region[("05", "cerrado")].reasons
