"""The rules of the report, without a database: periods, forms, who is late, who is idle."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.errors import Invalid
from config.settings import ReportSettings
from office.reports.aggregate import idle_reasons, reporting
from office.reports.forms import check_form
from office.reports.models import UnitFormRecord
from office.reports.periods import MONTH, QUARTER, YEAR, Period, parse_period
from office.reports.summary import EXEMPT, LATE, MISSING, NOT_DUE, ON_TIME, PeriodFigures, Usage
from office.reports.wording import count, decimal

TODAY = date(2006, 3, 31)
SETTINGS = ReportSettings()


@pytest.mark.parametrize(
    ("text", "period", "months", "label"),
    [
        ("2005", Period(2005, YEAR), 12, "năm 2005"),
        ("2005-Q4", Period(2005, QUARTER, 4), 3, "quý IV năm 2005"),
        ("2005-11", Period(2005, MONTH, 11), 1, "tháng 11 năm 2005"),
    ],
)
def test_a_period_is_read_with_its_months_and_its_words(
    text: str, period: Period, months: int, label: str
) -> None:
    parsed = parse_period(text, TODAY)
    assert parsed == period
    assert len(parsed.months) == months
    assert parsed.label == label
    assert parsed.previous_year().key == text.replace("2005", "2004")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("11/2005", "2005-11"),
        ("1/2006", "2006-01"),
        ("Tháng 11/2005", "2005-11"),
        ("tháng 11 năm 2005", "2005-11"),
        ("T11/2005", "2005-11"),
        ("11-2005", "2005-11"),
        ("Quý IV/2005", "2005-Q4"),
        ("quý 4/2005", "2005-Q4"),
        ("Q4/2005", "2005-Q4"),
        ("quý  IV  năm 2005", "2005-Q4"),
        ("IV/2005", "2005-Q4"),
        ("Năm 2005", "2005"),
    ],
)
def test_a_period_is_read_as_people_write_it(text: str, key: str) -> None:
    assert parse_period(text, TODAY).key == key


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2005-13", "period-malformed"),
        ("2005-Q0", "period-malformed"),
        ("05", "period-malformed"),
        ("2005/11", "period-malformed"),
        ("13/2005", "period-malformed"),
        ("0/2005", "period-malformed"),
        ("Quý V/2005", "period-malformed"),
        ("Quý 5/2005", "period-malformed"),
        ("tháng IV/2005", "period-malformed"),
        ("năm 11/2005", "period-malformed"),
        ("4/2006", "period-future"),
        ("Quý II/2006", "period-future"),
        ("2006-04", "period-future"),
        ("2007", "period-future"),
        ("1999", "period-too-old"),
    ],
)
def test_a_malformed_or_future_period_is_refused(text: str, code: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_period(text, TODAY)
    assert refused.value.code == code


def test_a_report_to_date_averages_over_the_months_begun() -> None:
    assert parse_period("2006", TODAY).elapsed_months(TODAY) == ("2006-01", "2006-02", "2006-03")


@given(st.integers(min_value=0, max_value=10**12))
def test_whole_numbers_are_grouped_with_dots(value: int) -> None:
    written = count(value)
    assert written.replace(".", "") == str(value)
    assert all(len(group) == 3 for group in written.split(".")[1:])


def test_decimals_use_a_comma_and_drop_trailing_zeros() -> None:
    assert (decimal(14.57), decimal(3.5), decimal(11.0)) == ("14,57", "3,5", "11")


FORM = {"staff_total": "10", "staff_computer_literate": "8", "computers": "5", "servers": "1"}


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"computers": "-1"}, "form-negative", "Số máy tính: không được là số âm"),
        ({"servers": "hai"}, "form-not-a-number", "Số máy chủ: phải là một số nguyên"),
        ({"staff_computer_literate": "11"}, "form-inconsistent", "không thể lớn hơn"),
        ({"staff_total": True}, "form-not-a-number", "Tổng số cán bộ"),
        ({"incidents": "x" * 4001}, "form-too-long", "Sự cố"),
    ],
)
def test_a_form_with_a_wrong_figure_is_refused_naming_it(
    change: dict[str, object], code: str, words: str
) -> None:
    with pytest.raises(Invalid) as refused:
        check_form({**FORM, **change})
    assert refused.value.code == code
    assert words in refused.value.message


def test_a_form_keeps_its_figures_and_trimmed_texts() -> None:
    form = check_form({**FORM, "lan_state": "  ổn định \n"})
    assert (form.staff_total, form.staff_computer_literate, form.lan_state) == (10, 8, "ổn định")


def record(period: str, first_at: datetime) -> tuple[Period, UnitFormRecord]:
    return parse_period(period, TODAY), UnitFormRecord(period=period, first_at=first_at)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, tzinfo=UTC)


def test_monthly_forms_on_time_late_and_missing() -> None:
    quarter = parse_period("2006-Q1", TODAY)
    forms = [
        record("2006-01", at(date(2006, 2, 5))),  # due 05/02: on time
        record("2006-02", at(date(2006, 3, 6))),  # due 05/03: late
    ]
    state = reporting("district", forms, quarter, TODAY, SETTINGS)
    assert (state.state, state.missing, state.late) == (LATE, (), ("2006-02",))
    # March is not due until 05/04; without January's form, January is missing.
    state = reporting("district", forms[1:], quarter, TODAY, SETTINGS)
    assert (state.state, state.missing, state.late) == (MISSING, ("2006-01",), ("2006-02",))


def test_a_year_s_form_covers_its_months_judged_by_the_year_s_due_date() -> None:
    year = parse_period("2005", TODAY)
    on_time = reporting("sector", [record("2005", at(date(2006, 1, 4)))], year, TODAY, SETTINGS)
    assert on_time.state == ON_TIME
    late = reporting("sector", [record("2005", at(date(2006, 1, 20)))], year, TODAY, SETTINGS)
    assert late.state == LATE
    assert len(late.late) == 12


def test_the_province_itself_is_not_chased_and_nothing_is_due_before_its_day() -> None:
    month = parse_period("2006-03", TODAY)
    assert reporting("province", [], month, TODAY, SETTINGS).state == EXEMPT
    assert reporting("district", [], month, TODAY, SETTINGS).state == NOT_DUE


def test_a_unit_that_registers_few_of_its_documents_or_rarely_signs_in_is_idle() -> None:
    busy = PeriodFigures(Usage(accesses=600, documents_received=100, incoming_registered=90))
    assert idle_reasons("district", busy, SETTINGS) == ()
    unprocessed = PeriodFigures(Usage(accesses=600, documents_received=100, incoming_registered=30))
    assert idle_reasons("district", unprocessed, SETTINGS) == (
        "chỉ vào sổ, xử lý 30/100 văn bản đến điện tử",
    )
    quiet = PeriodFigures(Usage(accesses=60), months=12)
    (reason,) = idle_reasons("district", quiet, SETTINGS)
    assert reason.startswith("bình quân 5 lượt truy cập mỗi tháng")
    assert idle_reasons("province", quiet, SETTINGS) == ()
