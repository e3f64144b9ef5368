from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idea.chile import (
    REGIONS,
    REGIONS_BY_CODE,
    SANTIAGO,
    Region,
    RutError,
    compute_check_digit,
    end_of_day_santiago,
    format_clp,
    format_date_es,
    format_datetime_es,
    format_rut,
    from_santiago,
    is_valid_rut,
    normalize_rut,
    parse_clp,
    parse_rut,
    region_choices,
    region_name,
    to_santiago,
    utcnow,
)

bodies = st.integers(min_value=1, max_value=99_999_999)


def _dotted(body: int) -> str:
    return f"{body:,}".replace(",", ".")


# --------------------------------------------------------------------------- RUT examples


@pytest.mark.parametrize(
    ("body", "dv"),
    [
        (12345678, "5"),
        (11111111, "1"),
        (22222222, "2"),
        (76086428, "5"),
        (10000013, "K"),
        (1000005, "K"),
        (1, "9"),
        (19, "1"),
        (99999999, "9"),
        (7654321, "6"),
    ],
)
def test_compute_check_digit_known(body, dv):
    assert compute_check_digit(body) == dv


def test_compute_check_digit_covers_zero_and_k():
    seen = {compute_check_digit(n) for n in range(1, 200)}
    assert seen == set("0123456789K")


@pytest.mark.parametrize(
    "value",
    ["12.345.678-5", "12345678-5", "123456785", "  12.345.678-5  ", "\t12345678-5\n"],
)
def test_normalize_accepts_common_spellings(value):
    assert normalize_rut(value) == "12345678-5"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.000.013-k", "10000013-K"),
        ("10.000.013-K", "10000013-K"),
        ("10000013k", "10000013-K"),
        ("1.000.005-K", "1000005-K"),
        ("7.654.321-6", "7654321-6"),
        ("1-9", "1-9"),
        ("19", "1-9"),
        ("123.456-0", "123456-0"),
    ],
)
def test_normalize_examples(value, expected):
    assert normalize_rut(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "-",
        "K",
        "5",
        "0-0",
        "00000000-0",
        "12.345.678-4",
        "12345678-K",
        "12345678-",
        "-5",
        "1234567890",
        "123456789-5",
        "123.456.789-2",
        "1A345678-5",
        "abcdefgh-5",
        ".12.345.678-5",
        "12..345.678-5",
        "1.2345.678-5",
        "12.345.6785",
        "12.345.678.-5",
        "12.345.678--5",
        "12 345 678-5",
        "12345678-55",
        "12345678-X",
        "12,345,678-5",
        "١٢٣٤٥٦٧٨-5",
        "+12345678-5",
    ],
)
def test_invalid_ruts_rejected(value):
    assert not is_valid_rut(value)
    with pytest.raises(RutError):
        normalize_rut(value)


def test_rut_error_is_value_error_with_spanish_message():
    with pytest.raises(ValueError, match="dígito verificador"):
        normalize_rut("12.345.678-4")
    with pytest.raises(RutError, match="RUT"):
        normalize_rut("hola")


def test_parse_rut():
    assert parse_rut("12.345.678-5") == (12345678, "5")
    assert parse_rut("10000013-k") == (10000013, "K")


def test_format_rut_variants():
    assert format_rut("12345678-5") == "12.345.678-5"
    assert format_rut("123456785") == "12.345.678-5"
    assert format_rut(12345678) == "12.345.678-5"
    assert format_rut(12345678, "5") == "12.345.678-5"
    assert format_rut("12345678", "5") == "12.345.678-5"
    assert format_rut(10000013, "k") == "10.000.013-K"
    assert format_rut(123456) == "123.456-0"
    assert format_rut(1) == "1-9"
    with pytest.raises(RutError):
        format_rut(12345678, "4")
    with pytest.raises(RutError):
        format_rut(0)
    with pytest.raises(RutError):
        format_rut(100_000_000)


def test_is_valid_rut_non_string():
    assert not is_valid_rut(None)  # type: ignore[arg-type]
    assert not is_valid_rut(12345678)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- RUT properties


@given(bodies)
def test_format_parse_round_trip(body):
    dv = compute_check_digit(body)
    formatted = format_rut(body)
    assert formatted == f"{_dotted(body)}-{dv}"
    assert parse_rut(formatted) == (body, dv)
    assert normalize_rut(formatted) == f"{body}-{dv}"
    assert format_rut(normalize_rut(formatted)) == formatted


@given(bodies)
def test_three_spellings_normalise_equal(body):
    dv = compute_check_digit(body)
    spellings = {f"{_dotted(body)}-{dv}", f"{body}-{dv}", f"{body}{dv}"}
    assert {normalize_rut(s) for s in spellings} == {f"{body}-{dv}"}


def _next_k_body(start: int) -> int:
    return next(n for n in range(start, start + 1000) if compute_check_digit(n) == "K")


@given(st.integers(min_value=1, max_value=99_990_000))
def test_lowercase_k_equals_uppercase(start):
    body = _next_k_body(start)
    assert normalize_rut(f"{body}-k") == normalize_rut(f"{body}-K") == f"{body}-K"
    assert normalize_rut(f"{body}k") == f"{body}-K"
    assert normalize_rut(f"{_dotted(body)}-k") == f"{body}-K"
    assert format_rut(f"{body}-k") == format_rut(body) == f"{_dotted(body)}-K"


@given(bodies, st.data())
def test_changing_one_body_digit_invalidates(body, data):
    # Digit i has weight w in 2..7; a change of delta in 1..9 shifts the sum by delta*w,
    # never a multiple of 11 (prime), and the sum->dv map is injective, so dv must change.
    dv = compute_check_digit(body)
    digits = str(body)
    i = data.draw(st.integers(min_value=0, max_value=len(digits) - 1), label="position")
    new = data.draw(st.sampled_from([c for c in "0123456789" if c != digits[i]]), label="digit")
    mutated = digits[:i] + new + digits[i + 1 :]
    assert not is_valid_rut(f"{mutated}-{dv}")


@given(bodies, st.data())
def test_changing_check_digit_invalidates(body, data):
    dv = compute_check_digit(body)
    other = data.draw(st.sampled_from([c for c in "0123456789K" if c != dv]), label="dv")
    assert not is_valid_rut(f"{body}-{other}")
    assert not is_valid_rut(f"{_dotted(body)}-{other}")


def test_single_digit_change_exhaustive_for_sample():
    # Deterministic check of the property over every position and replacement digit.
    for body in (1, 9, 12345678, 99999999, 10000013, 7654321):
        dv = compute_check_digit(body)
        digits = str(body)
        for i in range(len(digits)):
            for new in "0123456789":
                if new == digits[i]:
                    continue
                mutated = digits[:i] + new + digits[i + 1 :]
                assert not is_valid_rut(f"{mutated}-{dv}"), (body, mutated)


# --------------------------------------------------------------------------- regions


def test_regions_count_and_unique_codes():
    assert len(REGIONS) == 16
    assert len({r.code for r in REGIONS}) == 16
    assert len({r.roman for r in REGIONS}) == 16
    assert len({r.name for r in REGIONS}) == 16
    assert set(REGIONS_BY_CODE) == {f"{n:02d}" for n in range(1, 17)}


def test_regions_order_north_to_south():
    expected = [f"{n:02d}" for n in (15, 1, 2, 3, 4, 5, 13, 6, 7, 16, 8, 9, 14, 10, 11, 12)]
    assert [r.code for r in REGIONS] == expected
    assert REGIONS[0] == Region("15", "XV", "Arica y Parinacota")
    assert REGIONS_BY_CODE["13"].roman == "RM"
    assert REGIONS_BY_CODE["16"].name == "Ñuble"


def test_region_is_frozen():
    with pytest.raises(AttributeError):
        REGIONS[0].name = "x"  # type: ignore[misc]


def test_region_name_and_choices():
    assert region_name("13") == "Metropolitana de Santiago"
    assert region_name("5") == "Valparaíso"
    assert region_name("05") == "Valparaíso"
    assert region_name("99", default="") == ""
    with pytest.raises(KeyError):
        region_name("99")
    choices = region_choices()
    assert len(choices) == 16
    assert choices[0] == ("15", "Arica y Parinacota")
    assert choices[-1] == ("12", "Magallanes y de la Antártica Chilena")


# --------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (20_000_000, "$20.000.000"),
        (0, "$0"),
        (999, "$999"),
        (1000, "$1.000"),
        (-5000, "-$5.000"),
        (1_234_567_890, "$1.234.567.890"),
        (None, ""),
    ],
)
def test_format_clp(amount, expected):
    assert format_clp(amount) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$20.000.000", 20_000_000),
        ("20000000", 20_000_000),
        ("20.000.000", 20_000_000),
        (" $ 20.000.000 ", 20_000_000),
        ("$0", 0),
        ("-$5.000", -5000),
        ("999", 999),
    ],
)
def test_parse_clp(text, expected):
    assert parse_clp(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "$",
        "abc",
        "20.000,50",
        "1500,5",
        "1500.50",
        "20.00.000",
        "2.0000",
        "$20.000.000 CLP",
        "1e6",
        "20 000",
        ".000",
        "20.",
        "--5",
    ],
)
def test_parse_clp_rejects_garbage(text):
    with pytest.raises(ValueError) as excinfo:
        parse_clp(text)
    assert "monto" in str(excinfo.value)


def test_parse_clp_decimal_message():
    with pytest.raises(ValueError, match="sin decimales"):
        parse_clp("20.000,50")


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_clp_round_trip(amount):
    assert parse_clp(format_clp(amount)) == amount


# --------------------------------------------------------------------------- time


def _transitions(year: int) -> list[datetime]:
    """UTC instants (to the hour) in year at which Santiago's offset changes."""
    found = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    prev = t.astimezone(SANTIAGO).utcoffset()
    while t.year == year:
        t += timedelta(hours=1)
        off = t.astimezone(SANTIAGO).utcoffset()
        if off != prev:
            found.append(t)
        prev = off
    return found


def _first_sunday(year: int, month: int) -> date:
    d = date(year, month, 1)
    return d + timedelta(days=(6 - d.weekday()) % 7)


def test_2026_transitions_are_first_sundays_of_april_and_september():
    back, forward = _transitions(2026)
    # Clocks go back at 00:00 (-03) -> 23:00 (-04) on the first Sunday of April.
    assert back == datetime(2026, 4, 5, 3, 0, tzinfo=UTC)
    assert _first_sunday(2026, 4) == date(2026, 4, 5)
    assert back.astimezone(SANTIAGO).utcoffset() == timedelta(hours=-4)
    # Clocks go forward at 00:00 (-04) -> 01:00 (-03) on the first Sunday of September.
    assert forward == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert _first_sunday(2026, 9) == date(2026, 9, 6)
    assert forward.astimezone(SANTIAGO).utcoffset() == timedelta(hours=-3)


def test_end_of_day_ordinary_days():
    assert end_of_day_santiago(date(2026, 1, 15)) == datetime(2026, 1, 16, 2, 59, 59, tzinfo=UTC)  # -03
    assert end_of_day_santiago(date(2026, 7, 15)) == datetime(2026, 7, 16, 3, 59, 59, tzinfo=UTC)  # -04


def test_end_of_day_when_clocks_go_back():
    # 2026-04-04 23:00-23:59 happens twice; the later one (-04) is the true end of the day.
    result = end_of_day_santiago(date(2026, 4, 4))
    assert result == datetime(2026, 4, 5, 3, 59, 59, tzinfo=UTC)
    assert result.tzinfo is not None and result.utcoffset() == timedelta(0)
    assert to_santiago(result).date() == date(2026, 4, 4)
    assert to_santiago(result + timedelta(seconds=1)).date() == date(2026, 4, 5)
    # The day after the change is a normal -04 day.
    assert end_of_day_santiago(date(2026, 4, 5)) == datetime(2026, 4, 6, 3, 59, 59, tzinfo=UTC)


def test_end_of_day_when_clocks_go_forward():
    # 2026-09-05 ends at 23:59:59 -04; 2026-09-06 (23 hours long) ends at 23:59:59 -03.
    assert end_of_day_santiago(date(2026, 9, 5)) == datetime(2026, 9, 6, 3, 59, 59, tzinfo=UTC)
    assert end_of_day_santiago(date(2026, 9, 6)) == datetime(2026, 9, 7, 2, 59, 59, tzinfo=UTC)
    result = end_of_day_santiago(date(2026, 9, 5))
    assert to_santiago(result + timedelta(seconds=1)).date() == date(2026, 9, 6)


def test_from_santiago_ambiguous_uses_first_occurrence():
    assert from_santiago(datetime(2026, 4, 4, 23, 30)) == datetime(2026, 4, 5, 2, 30, tzinfo=UTC)


def test_from_santiago_gap_moves_to_first_valid_instant():
    # 2026-09-06 00:00-00:59 does not exist in Santiago; 01:00 -03 == 04:00 UTC.
    for minute in (0, 1, 30, 59):
        assert from_santiago(datetime(2026, 9, 6, 0, minute)) == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert from_santiago(datetime(2026, 9, 6, 1, 0)) == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert from_santiago(datetime(2026, 9, 5, 23, 59, 59)) == datetime(2026, 9, 6, 3, 59, 59, tzinfo=UTC)


def test_from_santiago_ordinary_and_aware():
    assert from_santiago(datetime(2026, 5, 31, 23, 59)) == datetime(2026, 6, 1, 3, 59, tzinfo=UTC)
    aware = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)
    assert from_santiago(aware) == aware


def test_to_santiago_naive_is_utc():
    naive = datetime(2026, 6, 1, 3, 59)
    local = to_santiago(naive)
    assert local.tzinfo is SANTIAGO
    assert local.replace(tzinfo=None) == datetime(2026, 5, 31, 23, 59)
    assert to_santiago(naive.replace(tzinfo=UTC)) == local


utc_instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)


@given(utc_instants)
def test_utc_round_trip_through_santiago(instant):
    local = to_santiago(instant)
    back = from_santiago(local.replace(tzinfo=None))
    if local.fold == 0:
        assert back == instant
    else:
        # Second occurrence of an ambiguous wall time maps to the first (fold=0) one.
        assert back == instant - timedelta(hours=1)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31)))
def test_santiago_wall_round_trip(wall):
    back = to_santiago(from_santiago(wall)).replace(tzinfo=None)
    # Wall times survive the round trip except inside a spring-forward gap, which moves forward.
    assert back >= wall
    assert back - wall < timedelta(hours=1)
    if back != wall:
        assert back.minute == 0 and back.second == 0 and back.microsecond == 0


def test_transition_round_trips_2026():
    for hours in range(-3, 4):
        for t in _transitions(2026):
            instant = t + timedelta(hours=hours, minutes=17)
            local = to_santiago(instant)
            expected = instant if local.fold == 0 else instant - timedelta(hours=1)
            assert from_santiago(local.replace(tzinfo=None)) == expected


def test_utcnow_is_aware_utc():
    now = utcnow()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


# --------------------------------------------------------------------------- Spanish dates


def test_format_date_es():
    assert format_date_es(date(2026, 5, 31)) == "31 de mayo de 2026"
    assert format_date_es(date(2026, 1, 1)) == "1 de enero de 2026"
    assert format_date_es(date(2026, 9, 18)) == "18 de septiembre de 2026"


def test_format_date_es_converts_datetimes_to_santiago():
    # 02:00 UTC on 1 June is still 31 May in Santiago.
    assert format_date_es(datetime(2026, 6, 1, 2, 0)) == "31 de mayo de 2026"
    assert format_date_es(datetime(2026, 6, 1, 2, 0, tzinfo=UTC)) == "31 de mayo de 2026"


def test_format_datetime_es():
    assert format_datetime_es(datetime(2026, 6, 1, 3, 59, tzinfo=UTC)) == "31 de mayo de 2026, 23:59"
    assert format_datetime_es(end_of_day_santiago(date(2026, 5, 31))) == "31 de mayo de 2026, 23:59"
    assert format_datetime_es(datetime(2026, 1, 2, 12, 5)) == "2 de enero de 2026, 09:05"


def test_from_santiago_later_takes_the_second_of_a_repeated_time():
    wall = datetime(2026, 4, 4, 23, 30)
    assert from_santiago(wall, later=True) == datetime(2026, 4, 5, 3, 30, tzinfo=UTC)
    assert from_santiago(datetime(2026, 5, 31, 23, 59), later=True) == datetime(2026, 6, 1, 3, 59, tzinfo=UTC)
    assert from_santiago(datetime(2026, 9, 6, 0, 30), later=True) == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)


def test_which_wall_times_do_not_exist_or_happen_twice():
    from idea.chile import exists_in_santiago, is_ambiguous_in_santiago

    assert not exists_in_santiago(datetime(2026, 9, 6, 0, 30))
    assert exists_in_santiago(datetime(2026, 9, 6, 1, 0)) and exists_in_santiago(datetime(2026, 4, 4, 23, 30))
    assert is_ambiguous_in_santiago(datetime(2026, 4, 4, 23, 59, 59))
    assert not is_ambiguous_in_santiago(datetime(2026, 4, 5, 0, 0))
    assert not is_ambiguous_in_santiago(datetime(2026, 9, 6, 0, 30))
