"""The dashboard's charts of a unit's last twelve months (received, done, overdue), laid out
here and drawn as inline SVG by the templates (``_chart.html``): no script, no image request,
so they show with JavaScript off and under the site's strict policy, and print as they are.

A sparkline fits a table cell: each month a pair of bars, received and done, and a red mark
above a month in which documents went overdue. The large chart of a unit's page has the three
bars, a scale and the months' names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from office.reports.live import MonthWork

RECEIVED, DONE, OVERDUE = "received", "done", "overdue"


@dataclass(frozen=True)
class Bar:
    kind: str
    month: str
    x: float
    y: float
    width: float
    height: float
    value: int


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    #: The months with documents overdue, as marks (a sparkline's dots).
    marks: tuple[Label, ...]
    #: The months' names under the bars, and the scale's values beside them (large chart).
    months: tuple[Label, ...]
    scale: tuple[Label, ...]
    #: The horizontal lines of the scale (y of each), the baseline last.
    grid: tuple[float, ...]
    #: The months drawn, for the chart's title and the table beside it.
    data: tuple[MonthWork, ...]


def nice_top(value: int) -> int:
    """The scale's top: ``value`` rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if value <= factor * step:
                return factor * step
        step *= 10


def month_name(month: str) -> str:
    """``2026-05`` -> ``05/2026``, as dates are written."""
    return f"{month[5:7]}/{month[:4]}"


def _scaled(value: int, top: int, area: float) -> float:
    return round(area * value / top, 1) if top else 0.0


def sparkline(months: Sequence[MonthWork]) -> Chart:
    """120 × 36: received and done side by side, month by month, each scaled to the row's own
    largest figure; a dot over each month with documents overdue."""
    slot, bar, base, area = 10, 3.5, 35.0, 27.0
    top = max([m.received for m in months] + [m.done for m in months] + [1])
    bars: list[Bar] = []
    marks: list[Label] = []
    for index, month in enumerate(months):
        left = index * slot + 1
        for offset, kind, value in ((0.0, RECEIVED, month.received), (bar + 0.5, DONE, month.done)):
            height = max(_scaled(value, top, area), 1.0 if value else 0.0)
            bars.append(Bar(kind, month.month, left + offset, base - height, bar, height, value))
        if month.overdue:
            marks.append(Label(left + bar + 0.25, 3.5, str(month.overdue)))
    return Chart(120, 36, tuple(bars), tuple(marks), (), (), (base,), tuple(months))


def month_chart(months: Sequence[MonthWork]) -> Chart:
    """720 × 240: received, done and overdue for each month, on a scale from 0 to a round top,
    the months named under them."""
    left, slot, bar, base, area = 40.0, 56.0, 14.0, 206.0, 190.0
    top = nice_top(max([max(m.received, m.done, m.overdue) for m in months] + [1]))
    bars: list[Bar] = []
    names: list[Label] = []
    for index, month in enumerate(months):
        start = left + index * slot + 6
        for number, (kind, value) in enumerate(
            ((RECEIVED, month.received), (DONE, month.done), (OVERDUE, month.overdue))
        ):
            height = _scaled(value, top, area)
            x = start + number * (bar + 1)
            bars.append(Bar(kind, month.month, x, base - height, bar, height, value))
        names.append(Label(start + 1.5 * bar + 1, base + 18, month_name(month.month)))
    levels = (top, top // 2, 0) if top > 1 else (top, 0)
    grid = tuple(base - _scaled(level, top, area) for level in levels)
    scale = tuple(Label(left - 6, y + 4, str(level)) for level, y in zip(levels, grid, strict=True))
    return Chart(720, 240, tuple(bars), (), tuple(names), scale, grid, tuple(months))
