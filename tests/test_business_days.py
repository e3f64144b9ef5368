"""Chilean business days: the 5-day window to answer a notice (DESIGN: inadmissibility appeal)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idea.chile import (
    SANTIAGO,
    add_business_days,
    business_deadline,
    from_santiago,
    is_business_day,
    to_santiago,
)


def santiago(*args: int) -> datetime:
    return from_santiago(datetime(*args))


def last_moment_local(deadline: datetime) -> datetime:
    return to_santiago(deadline).replace(tzinfo=None, fold=0)


def test_notice_on_thursday_before_fiestas_patrias_runs_to_friday_of_next_week():
    # 18 and 19 September are national holidays and the weekend does not count: Mon 21 .. Fri 25.
    deadline = business_deadline(santiago(2026, 9, 17, 10, 30))
    assert last_moment_local(deadline) == datetime(2026, 9, 25, 23, 59, 59)
    assert deadline == datetime(2026, 9, 26, 2, 59, 59, tzinfo=UTC)  # Chile is at -03 in September
    assert deadline.tzinfo is not None


def test_an_answer_in_the_last_minute_of_friday_is_on_time_and_one_on_saturday_is_late():
    deadline = business_deadline(santiago(2026, 9, 17, 10, 30))
    assert santiago(2026, 9, 25, 23, 59, 0) <= deadline
    assert santiago(2026, 9, 26, 0, 0, 0) > deadline


def test_the_holidays_themselves_are_not_business_days():
    assert not is_business_day(date(2026, 9, 18))
    assert not is_business_day(date(2026, 9, 19))
    assert not is_business_day(date(2026, 9, 20))  # Sunday
    assert is_business_day(date(2026, 9, 17))
    assert is_business_day(date(2026, 9, 21))


def test_friday_evening_in_chile_counts_as_friday_although_it_is_saturday_in_utc():
    notice = santiago(2026, 9, 11, 22, 30)
    assert notice.date() == date(2026, 9, 12)  # already Saturday in UTC
    # Mon 14, Tue 15, Wed 16, Thu 17 (1-4); Fri 18 and Sat 19 are holidays; Mon 21 is the 5th.
    assert last_moment_local(business_deadline(notice)) == datetime(2026, 9, 21, 23, 59, 59)


def test_notice_sent_on_a_holiday_starts_counting_on_the_next_business_day():
    notice = santiago(2026, 9, 18, 12, 0)
    assert last_moment_local(business_deadline(notice)) == datetime(2026, 9, 25, 23, 59, 59)


def test_across_new_year():
    # Wed 30 and Thu 31 Dec (1, 2); 1 Jan is a holiday; Mon 4, Tue 5, Wed 6 Jan (3-5).
    notice = santiago(2026, 12, 29, 9, 0)
    assert last_moment_local(business_deadline(notice)) == datetime(2027, 1, 6, 23, 59, 59)


def test_31_december_is_a_business_day_for_the_public_although_banks_close():
    assert is_business_day(date(2026, 12, 31))


def test_window_over_the_september_clock_change_ends_at_local_midnight_in_summer_time():
    # Clocks go forward on the night of Saturday 5 to Sunday 6 September 2026 (-04 -> -03).
    notice = santiago(2026, 9, 4, 16, 0)
    assert to_santiago(notice).utcoffset() == timedelta(hours=-4)
    deadline = business_deadline(notice)
    assert last_moment_local(deadline) == datetime(2026, 9, 11, 23, 59, 59)
    assert to_santiago(deadline).utcoffset() == timedelta(hours=-3)
    assert deadline == datetime(2026, 9, 12, 2, 59, 59, tzinfo=UTC)


def test_window_over_the_april_clock_change_and_easter():
    # Good Friday 3 April and Holy Saturday 4 April 2026 are holidays; clocks go back that night (-03 -> -04).
    notice = santiago(2026, 4, 2, 18, 0)
    deadline = business_deadline(notice)
    assert last_moment_local(deadline) == datetime(2026, 4, 10, 23, 59, 59)
    assert deadline == datetime(2026, 4, 11, 3, 59, 59, tzinfo=UTC)


def test_naive_notice_is_taken_as_utc():
    # 2026-09-18 01:00 UTC is still Thursday 17 at 22:00 in Santiago.
    assert business_deadline(datetime(2026, 9, 18, 1, 0)) == business_deadline(santiago(2026, 9, 17, 9, 0))


def test_other_day_counts():
    assert add_business_days(date(2026, 9, 17), 0) == date(2026, 9, 17)
    assert add_business_days(date(2026, 9, 17), 1) == date(2026, 9, 21)
    assert last_moment_local(business_deadline(santiago(2026, 9, 17, 9, 0), days=10)) == datetime(
        2026, 10, 2, 23, 59, 59
    )


@pytest.mark.parametrize("bad", [-1, 1.5, True, "5"])
def test_bad_day_counts_are_refused(bad):
    with pytest.raises(ValueError):
        add_business_days(date(2026, 9, 17), bad)


def test_datetimes_are_refused_where_a_date_is_meant():
    with pytest.raises(TypeError):
        add_business_days(datetime(2026, 9, 17, tzinfo=SANTIAGO), 1)
    with pytest.raises(TypeError):
        is_business_day(datetime(2026, 9, 17))


@settings(deadline=None)  # the machine is shared: a slow example is not a failure
@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)), st.integers(0, 30))
def test_result_is_a_business_day_with_exactly_n_business_days_in_between(start, n):
    end = add_business_days(start, n)
    days = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(is_business_day(d) for d in days) == n
    if n:
        assert is_business_day(end)
