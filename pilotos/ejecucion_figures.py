"""The computed figures of a pilot, each with the formula shown beside it, as the State's programme sheets
do (seeds/003): coverage, spending per beneficiary, budget execution (flagged outside 90–110 %) and each
indicator's progress from its baseline towards its target. Plain functions over plain values: a missing or
zero denominator gives "no value" with the reason, never a division error.

Which reports count is the caller's choice (the lead and the portfolio count approved reports; a team's own
preview may count what it has sent). Per-period values add up: beneficiaries newly reached and pesos
executed per budget line; an indicator's actual value is the latest one reported."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

# Budget execution inside this band (inclusive) is on track; outside it is flagged.
EXECUTION_LOW = Decimal("0.90")
EXECUTION_HIGH = Decimal("1.10")

# Why a figure has no value.
NO_PLANNED = _l("no beneficiaries planned")
NO_REACHED = _l("no beneficiaries reached yet")
NO_AWARD = _l("no amount awarded")
NO_BASELINE = _l("no baseline")
NO_TARGET = _l("no target")
TARGET_IS_BASELINE = _l("the target equals the baseline")
NO_MEASURE = _l("not measured yet")


def to_decimal(value: Any) -> Decimal | None:
    """A number typed or stored as text ("12,5", "1.200" is read as 1.2: a decimal point or comma, no
    thousands separators), or None when blank or not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    text = str(value).strip().replace(",", ".")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


@dataclasses.dataclass(frozen=True)
class Figure:
    """A computed ratio with its formula: `value` is None when it cannot be computed, and `missing` says
    why. `flagged` marks a value outside its accepted range."""

    value: Decimal | None
    formula: str
    numerator: Decimal | None
    denominator: Decimal | None
    missing: Any = None  # a lazy message (translated when shown), or None
    flagged: bool = False

    @property
    def percent(self) -> Decimal | None:
        return None if self.value is None else (self.value * 100).quantize(Decimal("0.1"))


def _ratio(numerator: Decimal | None, denominator: Decimal | None, formula: str, missing: Any) -> Figure:
    if numerator is None or denominator is None or denominator == 0:
        return Figure(None, formula, numerator, denominator, missing=missing)
    return Figure(numerator / denominator, formula, numerator, denominator)


def coverage(reached: int | Decimal | None, planned: int | Decimal | None) -> Figure:
    """Coverage = beneficiaries reached / beneficiaries planned."""
    return _ratio(
        to_decimal(reached) if reached is not None else Decimal(0),
        to_decimal(planned),
        "cobertura = beneficiarios alcanzados / beneficiarios planificados",
        NO_PLANNED,
    )


def spending_per_beneficiary(executed: int | Decimal, reached: int | Decimal | None) -> Figure:
    """Spending per beneficiary = pesos executed / beneficiaries reached (pesos, not a percentage)."""
    return _ratio(
        to_decimal(executed),
        to_decimal(reached) if reached is not None else Decimal(0),
        "gasto por beneficiario = monto ejecutado / beneficiarios alcanzados",
        NO_REACHED,
    )


def budget_execution(executed: int | Decimal, awarded: int | Decimal | None) -> Figure:
    """Budget execution = executed / awarded, flagged outside 90–110 %."""
    figure = _ratio(
        to_decimal(executed),
        to_decimal(awarded),
        "ejecución presupuestaria = monto ejecutado / monto adjudicado",
        NO_AWARD,
    )
    if figure.value is None:
        return figure
    return dataclasses.replace(figure, flagged=not EXECUTION_LOW <= figure.value <= EXECUTION_HIGH)


def indicator_progress(baseline: Any, target: Any, actual: Any) -> Figure:
    """Progress = (actual − baseline) / (target − baseline): 0 at the baseline, 1 at the target, negative
    when the indicator moved away from it. A decreasing target (fewer people in debt) works the same way."""
    base, goal, now = to_decimal(baseline), to_decimal(target), to_decimal(actual)
    formula = "avance = (valor actual − línea base) / (meta − línea base)"
    if base is None:
        return Figure(None, formula, None, None, missing=NO_BASELINE)
    if goal is None:
        return Figure(None, formula, None, None, missing=NO_TARGET)
    if goal == base:
        return Figure(None, formula, None, Decimal(0), missing=TARGET_IS_BASELINE)
    if now is None:
        return Figure(None, formula, None, goal - base, missing=NO_MEASURE)
    return Figure((now - base) / (goal - base), formula, now - base, goal - base)


@dataclasses.dataclass(frozen=True)
class IndicatorRow:
    name: str
    unit: str
    baseline: Decimal | None
    target: Decimal | None
    actual: Decimal | None
    progress: Figure


@dataclasses.dataclass(frozen=True)
class BudgetRow:
    item: str
    category: str
    planned: int
    executed: int


@dataclasses.dataclass(frozen=True)
class PilotFigures:
    awarded: int
    planned_beneficiaries: int | None
    reached: int
    reached_by_sex: dict[str, int]
    reached_by_region: dict[str, int]
    executed: int
    budget: list[BudgetRow]
    indicators: list[IndicatorRow]
    coverage: Figure
    spending_per_beneficiary: Figure
    budget_execution: Figure

    @property
    def indicators_off_track(self) -> list[IndicatorRow]:
        """Indicators measured and moving away from their target (progress below zero)."""
        return [r for r in self.indicators if r.progress.value is not None and r.progress.value < 0]


def _int(value: Any) -> int:
    number = to_decimal(value)
    return int(number) if number is not None else 0


def pilot_figures(
    plan: Mapping[str, Any],
    awarded: int,
    planned_beneficiaries: int | None,
    reports: Iterable[Mapping[str, Any]],
) -> PilotFigures:
    """All of a pilot's figures from its plan (`Piloto.plan`) and the `data` of the reports that count, in
    calendar order."""
    reports = list(reports)
    reached = 0
    by_sex: dict[str, int] = {"mujeres": 0, "hombres": 0, "otro": 0}
    by_region: dict[str, int] = {}
    executed_by_item: dict[str, int] = {}
    actual: dict[str, Decimal] = {}
    for data in reports:
        people = data.get("beneficiarios") or {}
        reached += _int(people.get("total"))
        for key in by_sex:
            by_sex[key] += _int(people.get(key))
        for code, count in (people.get("por_region") or {}).items():
            by_region[code] = by_region.get(code, 0) + _int(count)
        for line in data.get("gastos") or []:
            item = str(line.get("item", ""))
            executed_by_item[item] = executed_by_item.get(item, 0) + _int(line.get("executed"))
        for row in data.get("indicadores") or []:
            value = to_decimal(row.get("actual"))
            if value is not None:
                actual[str(row.get("name", ""))] = value  # the latest report wins
    budget = [
        BudgetRow(
            item=str(line.get("item", "")),
            category=str(line.get("category", "")),
            planned=_int(line.get("amount")),
            executed=executed_by_item.get(str(line.get("item", "")), 0),
        )
        for line in plan.get("presupuesto") or []
    ]
    executed = sum(executed_by_item.values())
    indicators = []
    for row in plan.get("indicadores") or []:
        name = str(row.get("name", ""))
        indicators.append(
            IndicatorRow(
                name=name,
                unit=str(row.get("unit", "")),
                baseline=to_decimal(row.get("baseline")),
                target=to_decimal(row.get("target")),
                actual=actual.get(name),
                progress=indicator_progress(row.get("baseline"), row.get("target"), actual.get(name)),
            )
        )
    return PilotFigures(
        awarded=awarded,
        planned_beneficiaries=planned_beneficiaries,
        reached=reached,
        reached_by_sex=by_sex,
        reached_by_region=by_region,
        executed=executed,
        budget=budget,
        indicators=indicators,
        coverage=coverage(reached, planned_beneficiaries),
        spending_per_beneficiary=spending_per_beneficiary(executed, reached),
        budget_execution=budget_execution(executed, awarded),
    )


# --- charts --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Bar:
    label: Any  # lazy
    value: Decimal
    x: float
    width: float
    y: float
    css: str


@dataclasses.dataclass(frozen=True)
class IndicatorChart:
    """Geometry of one indicator's chart (three horizontal bars: baseline, target, actual), drawn by the
    template `pilotos/ejecucion/_indicator_chart.html` as inline SVG; the numbers are also in a table."""

    name: str
    unit: str
    bars: list[Bar]
    width: int
    height: int
    missing: list[Any]  # lazy labels


BASELINE = _l("Baseline")
TARGET = _l("Target")
ACTUAL = _l("Actual")
CHART_WIDTH = 320
BAR_HEIGHT = 18
LABEL_WIDTH = 90


def indicator_chart(row: IndicatorRow) -> IndicatorChart:
    """Bars scaled to the largest of baseline, target and actual (negative values are drawn as zero: the
    table beside the chart shows the real number)."""
    values = [
        (BASELINE, row.baseline, "bar-baseline"),
        (TARGET, row.target, "bar-target"),
        (ACTUAL, row.actual, "bar-actual"),
    ]
    present = [v for _, v, _ in values if v is not None]
    top = max([v for v in present if v > 0], default=Decimal(1))
    span = CHART_WIDTH - LABEL_WIDTH - 60
    bars = []
    missing = []
    for index, (label, value, css) in enumerate(values):
        if value is None:
            missing.append(label)
            continue
        width = float(max(value, Decimal(0)) / top) * span
        bars.append(Bar(label, value, LABEL_WIDTH, width, 6 + index * (BAR_HEIGHT + 8), css))
    return IndicatorChart(
        name=row.name,
        unit=row.unit,
        bars=bars,
        width=CHART_WIDTH,
        height=6 + len(values) * (BAR_HEIGHT + 8),
        missing=missing,
    )


def indicator_charts(rows: Sequence[IndicatorRow]) -> list[IndicatorChart]:
    return [indicator_chart(r) for r in rows]
