"""The pilot's computed figures against values computed by hand, including the cases that must not divide
by zero: no beneficiaries planned or reached, no baseline, a target equal to its baseline."""

from __future__ import annotations

from decimal import Decimal

from pilotos import ejecucion_figures as f

PLAN = {
    "presupuesto": [
        {"item": "Monitoras", "category": "personal", "amount": "6000000"},
        {"item": "Materiales", "category": "operacion", "amount": "4000000"},
    ],
    "indicadores": [
        {"name": "Hogares con ahorro", "unit": "%", "baseline": "20", "target": "50"},
        {"name": "Deuda promedio", "unit": "$", "baseline": "300000", "target": "200000"},
        {"name": "Redes de apoyo", "unit": "n", "baseline": "", "target": "10"},
        {"name": "Sin cambio", "unit": "n", "baseline": "5", "target": "5"},
    ],
}
REPORTS = [
    {
        "beneficiarios": {"total": 30, "mujeres": 20, "hombres": 9, "otro": 1, "por_region": {"08": 30}},
        "gastos": [{"item": "Monitoras", "executed": 2000000}, {"item": "Materiales", "executed": 1500000}],
        "indicadores": [
            {"name": "Hogares con ahorro", "actual": "26"},
            {"name": "Deuda promedio", "actual": ""},
        ],
    },
    {
        "beneficiarios": {
            "total": 20,
            "mujeres": 10,
            "hombres": 10,
            "otro": 0,
            "por_region": {"08": 15, "16": 5},
        },
        "gastos": [{"item": "Monitoras", "executed": 2500000}],
        "indicadores": [
            {"name": "Hogares con ahorro", "actual": "35"},
            {"name": "Deuda promedio", "actual": "325000"},
            {"name": "Redes de apoyo", "actual": "4"},
        ],
    },
]


def test_figures_match_the_hand_computation() -> None:
    figures = f.pilot_figures(PLAN, awarded=10_000_000, planned_beneficiaries=80, reports=REPORTS)
    assert figures.reached == 50
    assert figures.reached_by_sex == {"mujeres": 30, "hombres": 19, "otro": 1}
    assert figures.reached_by_region == {"08": 45, "16": 5}
    assert figures.executed == 6_000_000
    assert [(b.item, b.planned, b.executed) for b in figures.budget] == [
        ("Monitoras", 6_000_000, 4_500_000),
        ("Materiales", 4_000_000, 1_500_000),
    ]
    assert figures.coverage.value == Decimal(50) / Decimal(80)  # 62.5 %
    assert figures.coverage.percent == Decimal("62.5")
    assert figures.spending_per_beneficiary.value == Decimal(120_000)  # 6,000,000 / 50
    assert figures.budget_execution.value == Decimal("0.6")
    assert figures.budget_execution.flagged  # 60 % is outside 90–110 %

    savings, debt, networks, flat = figures.indicators
    assert savings.actual == Decimal(35)  # the latest report wins
    assert savings.progress.value == Decimal(15) / Decimal(30)  # (35 − 20) / (50 − 20) = 0.5
    # A decreasing target: the debt rose from 300,000 to 325,000, away from 200,000: −25 %.
    assert debt.progress.value == Decimal("-0.25")
    assert figures.indicators_off_track == [debt]
    assert networks.progress.value is None and networks.progress.missing is f.NO_BASELINE
    assert flat.progress.value is None and flat.progress.missing is f.TARGET_IS_BASELINE


def test_no_reports_yet_gives_no_division_error() -> None:
    figures = f.pilot_figures(PLAN, awarded=10_000_000, planned_beneficiaries=80, reports=[])
    assert figures.reached == 0 and figures.executed == 0
    assert figures.coverage.value == 0
    assert figures.spending_per_beneficiary.value is None
    assert figures.spending_per_beneficiary.missing is f.NO_REACHED
    assert figures.budget_execution.value == 0 and figures.budget_execution.flagged
    assert figures.indicators[0].progress.missing is f.NO_MEASURE


def test_zero_or_missing_denominators() -> None:
    assert f.coverage(10, 0).value is None
    assert f.coverage(10, None).missing is f.NO_PLANNED
    assert f.spending_per_beneficiary(500_000, 0).value is None
    assert f.budget_execution(100, 0).value is None
    assert f.indicator_progress(None, "10", "5").missing is f.NO_BASELINE
    assert f.indicator_progress("0", "10", "5").value == Decimal("0.5")  # a zero baseline is a baseline
    assert f.indicator_progress("3", None, "5").missing is f.NO_TARGET


def test_budget_execution_band_is_inclusive() -> None:
    assert not f.budget_execution(9_000_000, 10_000_000).flagged
    assert not f.budget_execution(11_000_000, 10_000_000).flagged
    assert f.budget_execution(8_999_999, 10_000_000).flagged
    assert f.budget_execution(11_000_001, 10_000_000).flagged


def test_numbers_typed_with_a_comma_and_junk() -> None:
    assert f.to_decimal("12,5") == Decimal("12.5")
    assert f.to_decimal(" ") is None
    assert f.to_decimal("abc") is None
    assert f.to_decimal("NaN") is None
    assert f.to_decimal("Infinity") is None


def test_chart_scales_to_the_largest_value_and_names_what_is_missing() -> None:
    figures = f.pilot_figures(PLAN, awarded=1, planned_beneficiaries=None, reports=REPORTS)
    chart = f.indicator_chart(figures.indicators[0])  # baseline 20, target 50, actual 35
    widths = {b.css: b.width for b in chart.bars}
    assert widths["bar-target"] > widths["bar-actual"] > widths["bar-baseline"] > 0
    assert f.indicator_chart(figures.indicators[2]).missing == [f.BASELINE]
