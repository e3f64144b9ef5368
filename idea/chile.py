"""Chilean helpers: RUT, regions, CLP amounts, Santiago time and Spanish dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from babel.dates import format_date as _babel_format_date

__all__ = [
    "REGIONS",
    "REGIONS_BY_CODE",
    "SANTIAGO",
    "Region",
    "RutError",
    "add_business_days",
    "business_deadline",
    "compute_check_digit",
    "end_of_day_santiago",
    "exists_in_santiago",
    "format_clp",
    "format_date_es",
    "format_datetime_es",
    "format_rut",
    "from_santiago",
    "is_business_day",
    "is_ambiguous_in_santiago",
    "is_valid_rut",
    "normalize_rut",
    "parse_clp",
    "parse_rut",
    "region_choices",
    "region_name",
    "to_santiago",
    "utcnow",
]

# ---------------------------------------------------------------------------
# RUT
# ---------------------------------------------------------------------------

RUT_MAX_BODY = 99_999_999

_MSG_RUT_EMPTY = "Ingresa un RUT."
_MSG_RUT_FORMAT = "El RUT no es válido: usa el formato 12.345.678-5."
_MSG_RUT_DV = "El RUT no es válido: revisa el dígito verificador."

# At most 8 body digits: either correctly grouped dots with a mandatory hyphen,
# or plain digits with an optional hyphen.
# [0-9] instead of \d so that non-ASCII digits (e.g. Arabic-Indic) are rejected.
_RUT_RE = re.compile(
    r"""
    ^(?:
        (?P<dotted>[0-9]{1,2}\.[0-9]{3}\.[0-9]{3}|[0-9]{1,3}\.[0-9]{3})-(?P<dotted_dv>[0-9K])
      | (?P<plain>[0-9]{1,8})-?(?P<plain_dv>[0-9K])
    )$
    """,
    re.VERBOSE,
)


class RutError(ValueError):
    """Raised when a RUT is malformed or its check digit is wrong."""


def compute_check_digit(body: int) -> str:
    """Return the modulo-11 check digit ('0'-'9' or 'K') for a RUT body."""
    if isinstance(body, bool) or not isinstance(body, int):
        raise TypeError("body must be an int")
    if body < 0:
        raise ValueError("body must be non-negative")
    total = 0
    weight = 2
    while body:
        body, digit = divmod(body, 10)
        total += digit * weight
        weight = 2 if weight == 7 else weight + 1
    result = 11 - total % 11
    if result == 11:
        return "0"
    if result == 10:
        return "K"
    return str(result)


def parse_rut(value: str) -> tuple[int, str]:
    """Parse and validate a RUT, returning (body, check digit)."""
    if not isinstance(value, str):
        raise RutError(_MSG_RUT_FORMAT)
    text = value.strip().upper()
    if not text:
        raise RutError(_MSG_RUT_EMPTY)
    match = _RUT_RE.match(text)
    if match is None:
        raise RutError(_MSG_RUT_FORMAT)
    if match.group("dotted") is not None:
        body_text = match.group("dotted").replace(".", "")
        dv = match.group("dotted_dv")
    else:
        body_text = match.group("plain")
        dv = match.group("plain_dv")
    body = int(body_text)
    if body == 0:
        raise RutError(_MSG_RUT_FORMAT)
    if compute_check_digit(body) != dv:
        raise RutError(_MSG_RUT_DV)
    return body, dv


def normalize_rut(value: str) -> str:
    """Return the canonical form of a RUT, e.g. '12345678-5'."""
    body, dv = parse_rut(value)
    return f"{body}-{dv}"


def format_rut(value: str | int, dv: str | None = None) -> str:
    """Return a RUT formatted for display, e.g. '12.345.678-5'."""
    if isinstance(value, bool):
        raise RutError(_MSG_RUT_FORMAT)
    if isinstance(value, int):
        if not 1 <= value <= RUT_MAX_BODY:
            raise RutError(_MSG_RUT_FORMAT)
        if dv is None:
            dv = compute_check_digit(value)
        body, dv = parse_rut(f"{value}-{dv}")
    elif dv is not None:
        body, dv = parse_rut(f"{str(value).strip()}-{dv.strip()}")
    else:
        body, dv = parse_rut(value)
    return f"{body:,}".replace(",", ".") + f"-{dv}"


def is_valid_rut(value: str) -> bool:
    """Return True if value is a well-formed RUT with a correct check digit."""
    try:
        parse_rut(value)
    except RutError:
        return False
    return True


# ---------------------------------------------------------------------------
# Regions
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Region:
    """A Chilean region with its official code and roman numeral."""

    code: str
    roman: str
    name: str


REGIONS: tuple[Region, ...] = (
    Region("15", "XV", "Arica y Parinacota"),
    Region("01", "I", "Tarapacá"),
    Region("02", "II", "Antofagasta"),
    Region("03", "III", "Atacama"),
    Region("04", "IV", "Coquimbo"),
    Region("05", "V", "Valparaíso"),
    Region("13", "RM", "Metropolitana de Santiago"),
    Region("06", "VI", "Libertador General Bernardo O'Higgins"),
    Region("07", "VII", "Maule"),
    Region("16", "XVI", "Ñuble"),
    Region("08", "VIII", "Biobío"),
    Region("09", "IX", "La Araucanía"),
    Region("14", "XIV", "Los Ríos"),
    Region("10", "X", "Los Lagos"),
    Region("11", "XI", "Aysén del General Carlos Ibáñez del Campo"),
    Region("12", "XII", "Magallanes y de la Antártica Chilena"),
)

REGIONS_BY_CODE: dict[str, Region] = {region.code: region for region in REGIONS}


def region_name(code: str, default: str | None = None) -> str:
    """Return the region name for a code ('13' or '1'/'01'); KeyError if unknown and no default."""
    key = str(code).strip()
    if key.isdigit() and len(key) == 1:
        key = key.zfill(2)
    region = REGIONS_BY_CODE.get(key)
    if region is not None:
        return region.name
    if default is not None:
        return default
    raise KeyError(f"Región desconocida: {code!r}")


def region_choices() -> list[tuple[str, str]]:
    """Return (code, name) pairs ordered north to south, for form selects."""
    return [(region.code, region.name) for region in REGIONS]


# ---------------------------------------------------------------------------
# Money (CLP has no minor unit)
# ---------------------------------------------------------------------------

_MSG_CLP_EMPTY = "Ingresa un monto."
_MSG_CLP_FORMAT = "El monto no es válido: escribe solo números, por ejemplo $20.000.000."
_MSG_CLP_DECIMALS = "El monto debe estar en pesos enteros, sin decimales."

_CLP_RE = re.compile(r"^(?P<sign>-)?\s*\$?\s*(?P<num>[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)$")
# Something like "1500,5", "20.000,00" or "1500.50": a decimal part, not thousands grouping.
_CLP_DECIMAL_RE = re.compile(r"^-?\s*\$?\s*[0-9.]*[0-9](?:,[0-9]+|\.[0-9]{1,2})$")


def format_clp(amount: int | None) -> str:
    """Format an integer amount of pesos, e.g. 20000000 -> '$20.000.000'; None -> ''."""
    if amount is None:
        return ""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amount must be an int or None")
    grouped = f"{abs(amount):,}".replace(",", ".")
    return f"-${grouped}" if amount < 0 else f"${grouped}"


def parse_clp(text: str) -> int:
    """Parse a CLP amount such as '$20.000.000', '20.000.000' or '20000000' into an int."""
    if not isinstance(text, str):
        raise ValueError(_MSG_CLP_FORMAT)
    cleaned = text.strip()
    if not cleaned:
        raise ValueError(_MSG_CLP_EMPTY)
    match = _CLP_RE.match(cleaned)
    if match is None:
        if _CLP_DECIMAL_RE.match(cleaned):
            raise ValueError(_MSG_CLP_DECIMALS)
        raise ValueError(_MSG_CLP_FORMAT)
    value = int(match.group("num").replace(".", ""))
    return -value if match.group("sign") else value


# ---------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------

SANTIAGO = ZoneInfo("America/Santiago")


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def _as_utc(dt: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def to_santiago(dt_utc: datetime) -> datetime:
    """Convert a UTC datetime (naive values are taken as UTC) to aware Santiago time."""
    return _as_utc(dt_utc).astimezone(SANTIAGO)


def _wall(dt: datetime) -> datetime:
    return dt.replace(tzinfo=None, fold=0)


def exists_in_santiago(local_naive: datetime) -> bool:
    """Whether a Santiago wall-clock time happens at all (it does not inside a spring-forward gap)."""
    wall = _wall(local_naive)
    return _wall(wall.replace(tzinfo=SANTIAGO).astimezone(UTC).astimezone(SANTIAGO)) == wall


def is_ambiguous_in_santiago(local_naive: datetime) -> bool:
    """Whether a Santiago wall-clock time happens twice (the hour repeated when clocks go back)."""
    wall = _wall(local_naive)
    first = wall.replace(tzinfo=SANTIAGO, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=SANTIAGO, fold=1).astimezone(UTC)
    return first != second and exists_in_santiago(wall)


def from_santiago(local_naive: datetime, *, later: bool = False) -> datetime:
    """Convert a naive Santiago wall-clock time to an aware UTC datetime.

    Ambiguous times (clocks going back) resolve to the first occurrence, or to the second with `later`
    (what a deadline wants: it never closes while the clock may still show the time typed).
    Non-existent times (inside a spring-forward gap) move forward to the first valid
    instant, i.e. the moment the clocks jumped. Aware inputs are simply converted to UTC.
    """
    if local_naive.tzinfo is not None:
        return local_naive.astimezone(UTC)
    wall = local_naive.replace(fold=0)
    candidate = wall.replace(tzinfo=SANTIAGO).astimezone(UTC)
    if _wall(candidate.astimezone(SANTIAGO)) == wall:
        return wall.replace(tzinfo=SANTIAGO, fold=1).astimezone(UTC) if later else candidate
    # In a gap: fold=0 and fold=1 land on either side of the transition instant.
    bounds = sorted([candidate, wall.replace(tzinfo=SANTIAGO, fold=1).astimezone(UTC)])
    return _first_instant_at_or_after(wall, bounds[0], bounds[1])


def at_santiago(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """The UTC instant of `day` at `hour`:`minute` on Santiago's clocks (demo data, tests)."""
    return from_santiago(datetime.combine(day, time(hour, minute)))


def _first_instant_at_or_after(wall: datetime, low: datetime, high: datetime) -> datetime:
    # Binary search (microsecond resolution) for the first UTC instant whose wall time >= wall.
    step = timedelta(microseconds=1)
    while high - low > step:
        mid = low + (high - low) // 2
        if _wall(mid.astimezone(SANTIAGO)) >= wall:
            high = mid
        else:
            low = mid
    return high


def end_of_day_santiago(d: date) -> datetime:
    """Return the aware UTC instant of 23:59:59 Santiago time on day d.

    If 23:59:59 occurs twice (clocks going back at midnight), the later occurrence is
    used, so a deadline never closes while the local calendar still shows day d.
    """
    if isinstance(d, datetime):
        d = d.date()
    return from_santiago(datetime.combine(d, time(23, 59, 59)), later=True)


# ---------------------------------------------------------------------------
# Business days (días hábiles)
# ---------------------------------------------------------------------------

# National public holidays only (no regional ones such as Arica's 7 June): a notice period runs the same for
# every applicant wherever they live. The holidays package follows each new holiday law; a hand-made list
# would not.
_CHILE_HOLIDAYS = holidays.country_holidays("CL", categories=holidays.PUBLIC)


def is_business_day(d: date) -> bool:
    """Return True if d is a Chilean business day: Monday to Friday and not a national holiday."""
    if isinstance(d, datetime):
        raise TypeError("is_business_day takes a date; convert datetimes with to_santiago() first")
    return d.weekday() < 5 and d not in _CHILE_HOLIDAYS


def add_business_days(start: date, n: int) -> date:
    """Return the n-th business day after start (start itself never counts; n=0 returns start)."""
    if isinstance(start, datetime):
        raise TypeError("add_business_days takes a date; convert datetimes with to_santiago() first")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError("n must be a non-negative int")
    day = start
    while n:
        day += timedelta(days=1)
        if is_business_day(day):
            n -= 1
    return day


def business_deadline(notice_at: datetime, days: int = 5) -> datetime:
    """Return the aware UTC end of the days-th Chilean business day after a notice was sent.

    The day count starts from the notice's date in Santiago (a notice sent on Friday at 22:00 in Chile is a
    Friday notice even though it is already Saturday in UTC), and the answer is on time until the end of
    the last business day, Santiago wall clock (see end_of_day_santiago).
    """
    return end_of_day_santiago(add_business_days(to_santiago(notice_at).date(), days))


# ---------------------------------------------------------------------------
# Spanish dates
# ---------------------------------------------------------------------------


def format_date_es(value: date | datetime) -> str:
    """Format a date as '31 de mayo de 2026'; datetimes are converted to Santiago first."""
    if isinstance(value, datetime):
        value = to_santiago(value).date()
    return _babel_format_date(value, format="long", locale="es_CL")


def format_datetime_es(value: datetime) -> str:
    """Format a datetime in Santiago time as '31 de mayo de 2026, 23:59'."""
    local = to_santiago(value)
    return f"{format_date_es(local.date())}, {local:%H:%M}"
