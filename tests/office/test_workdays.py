"""Deadlines in working days: weekends, Vietnamese public holidays, the operator's additions."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from office.documents.workdays import WorkingCalendar

CALENDAR = WorkingCalendar.vietnam()

# Years the holidays package has lunar data for, well inside date's own range.
days_in_range = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 6, 30))


def test_one_working_day_after_a_friday_is_the_monday() -> None:
    assert CALENDAR.add_working_days(date(2025, 3, 7), 1) == date(2025, 3, 10)
    assert CALENDAR.working_days_between(date(2025, 3, 7), date(2025, 3, 10)) == 1


def test_weekends_are_not_working_days() -> None:
    assert CALENDAR.is_working_day(date(2025, 3, 7))
    assert not CALENDAR.is_working_day(date(2025, 3, 8))
    assert not CALENDAR.is_working_day(date(2025, 3, 9))


def test_the_2026_tet_break_is_skipped() -> None:
    # Officials were off from Saturday 14 to Sunday 22 February 2026 (27 Chạp to mùng 6).
    tet = {
        date(2026, 2, 16): "Giao thừa Tết Nguyên Đán",
        date(2026, 2, 17): "Tết Nguyên Đán",
        date(2026, 2, 18): "Mùng hai Tết Nguyên Đán",
        date(2026, 2, 19): "Mùng ba Tết Nguyên Đán",
        date(2026, 2, 20): "Mùng bốn Tết Nguyên Đán",
    }
    for day, name in tet.items():
        assert not CALENDAR.is_working_day(day)
        assert CALENDAR.holiday_name(day) == name
    assert CALENDAR.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    assert CALENDAR.add_working_days(date(2026, 2, 12), 2) == date(2026, 2, 23)
    assert CALENDAR.working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1


def test_the_2025_tet_break_includes_the_day_in_lieu_of_saturday() -> None:
    # Mùng bốn fell on Saturday 1 February; 29 Tết (Monday 27 January) was given instead.
    assert CALENDAR.holiday_name(date(2025, 1, 27)) == "29 Tết"
    assert CALENDAR.add_working_days(date(2025, 1, 24), 1) == date(2025, 2, 3)


def test_a_document_received_on_a_holiday_is_due_the_day_work_resumes() -> None:
    assert CALENDAR.add_working_days(date(2026, 2, 17), 0) == date(2026, 2, 23)
    assert CALENDAR.add_working_days(date(2026, 2, 23), 0) == date(2026, 2, 23)


def test_reunification_and_labour_day_2025_with_the_swapped_friday() -> None:
    for day in (date(2025, 4, 30), date(2025, 5, 1), date(2025, 5, 2)):
        assert not CALENDAR.is_working_day(day)
    assert CALENDAR.holiday_name(date(2025, 4, 30)) == "Ngày Chiến thắng"
    assert CALENDAR.holiday_name(date(2025, 5, 1)) == "Ngày Quốc tế Lao động"
    assert CALENDAR.add_working_days(date(2025, 4, 29), 1) == date(2025, 5, 5)
    # Friday 2 May was swapped with Saturday 26 April, which was worked.
    assert CALENDAR.is_working_day(date(2025, 4, 26))
    assert CALENDAR.add_working_days(date(2025, 4, 25), 1) == date(2025, 4, 26)


def test_hung_kings_day_on_a_sunday_is_observed_on_monday() -> None:
    assert CALENDAR.holiday_name(date(2026, 4, 26)) == "Ngày Giỗ Tổ Hùng Vương"
    assert not CALENDAR.is_working_day(date(2026, 4, 27))
    assert CALENDAR.add_working_days(date(2026, 4, 24), 1) == date(2026, 4, 28)


def test_national_day_and_its_adjacent_day() -> None:
    assert CALENDAR.holiday_name(date(2025, 9, 2)) == "Quốc khánh"
    assert CALENDAR.holiday_name(date(2025, 9, 1)) == "Quốc khánh"
    assert CALENDAR.add_working_days(date(2025, 8, 29), 1) == date(2025, 9, 3)
    # 2026: Monday 31 August swapped with Saturday 22 August.
    assert CALENDAR.add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)
    assert CALENDAR.is_working_day(date(2026, 8, 22))


def test_an_ordinary_day_has_no_holiday_name() -> None:
    assert CALENDAR.holiday_name(date(2025, 3, 7)) is None


def test_deadlines_cross_the_new_year() -> None:
    assert CALENDAR.add_working_days(date(2025, 12, 30), 2) == date(2026, 1, 2)
    assert CALENDAR.working_days_between(date(2025, 12, 30), date(2026, 1, 2)) == 2


def test_an_extra_day_off_is_honoured() -> None:
    calendar = WorkingCalendar.vietnam(extra_days_off=[date(2026, 1, 2)])
    assert not calendar.is_working_day(date(2026, 1, 2))
    assert calendar.holiday_name(date(2026, 1, 2)) is None
    assert calendar.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 5)
    assert calendar.working_days_between(date(2025, 12, 31), date(2026, 1, 5)) == 1
    assert CALENDAR.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 2)


def test_an_extra_working_day_is_honoured() -> None:
    calendar = WorkingCalendar.vietnam(extra_working_days=[date(2026, 1, 10)])
    assert calendar.is_working_day(date(2026, 1, 10))
    assert calendar.add_working_days(date(2026, 1, 9), 1) == date(2026, 1, 10)
    assert calendar.working_days_between(date(2026, 1, 9), date(2026, 1, 12)) == 2


def test_an_extra_working_day_overrides_a_package_holiday() -> None:
    calendar = WorkingCalendar.vietnam(extra_working_days=[date(2026, 2, 20)])
    assert calendar.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 20)


def test_a_day_both_off_and_working_is_refused() -> None:
    with pytest.raises(ValueError, match="2026-01-10"):
        WorkingCalendar.vietnam(
            extra_days_off=[date(2026, 1, 10)], extra_working_days=[date(2026, 1, 10)]
        )


def test_a_negative_number_of_days_is_refused() -> None:
    with pytest.raises(ValueError, match="-1"):
        CALENDAR.add_working_days(date(2025, 3, 7), -1)


def test_counting_backwards_is_negative() -> None:
    assert CALENDAR.working_days_between(date(2026, 2, 23), date(2026, 2, 13)) == -1
    assert CALENDAR.working_days_between(date(2026, 2, 23), date(2026, 2, 23)) == 0


def test_fifty_deadlines_a_page_cost_nothing() -> None:
    calendar = WorkingCalendar.vietnam()
    start = date(2025, 1, 1)
    began = time.perf_counter()
    for n in range(10_000):
        calendar.add_working_days(start + timedelta(days=n % 700), n % 30)
    assert time.perf_counter() - began < 1.0


@hypothesis_settings(max_examples=300, deadline=None)
@given(days_in_range, st.integers(min_value=1, max_value=600))
def test_counting_undoes_adding(start: date, days: int) -> None:
    deadline = CALENDAR.add_working_days(start, days)
    assert CALENDAR.working_days_between(start, deadline) == days
    assert CALENDAR.is_working_day(deadline)
    assert deadline > start


@hypothesis_settings(max_examples=100, deadline=None)
@given(days_in_range)
def test_no_days_means_the_first_working_day_from_start(start: date) -> None:
    # Counting undoes adding here only when start is itself a working day: a document
    # received on a holiday is due the day work resumes, which is one working day later.
    deadline = CALENDAR.add_working_days(start, 0)
    assert CALENDAR.is_working_day(deadline)
    assert all(not CALENDAR.is_working_day(day) for day in _days(start, deadline))
    expected = 0 if CALENDAR.is_working_day(start) else 1
    assert CALENDAR.working_days_between(start, deadline) == expected


def _days(first: date, stop: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((stop - first).days)]


@hypothesis_settings(max_examples=100, deadline=None)
@given(
    days_in_range,
    st.integers(min_value=1, max_value=40),
    st.frozensets(st.integers(min_value=0, max_value=60), max_size=10),
    st.frozensets(st.integers(min_value=0, max_value=60), max_size=10),
)
def test_adding_agrees_with_walking_day_by_day(
    start: date, days: int, off: frozenset[int], working: frozenset[int]
) -> None:
    calendar = WorkingCalendar.vietnam(
        extra_days_off=(start + timedelta(days=n) for n in off),
        extra_working_days=(start + timedelta(days=n) for n in working - off),
    )
    walked, left = start, days
    while left:
        walked += timedelta(days=1)
        left -= calendar.is_working_day(walked)
    assert calendar.add_working_days(start, days) == walked
