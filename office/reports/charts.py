"""The report's two charts, month by month against the same month a year before, as PNG.

Drawn with matplotlib's object API on an Agg canvas, never through ``pyplot``: pyplot keeps
global figure state and picks a GUI backend, neither of which a server rendering reports from
several requests at once should have. DejaVu Sans, matplotlib's default face, has the
Vietnamese letters. The PNGs carry no "Software" stamp, so the same report gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from office.reports import wording
from office.reports.summary import MonthPoint, ProvinceReport

ACCESSES_TITLE = "Lượt truy cập theo tháng"
VOLUME_TITLE = "Lượng thông tin trao đổi theo tháng (Gigabai)"

#: 16 cm wide, the width of an A4 page between 2 cm margins (and of the DOCX picture).
WIDTH_INCHES = 16 / 2.54
HEIGHT_INCHES = 7 / 2.54
DPI = 110
CURRENT_COLOUR = "#1f4e79"
PREVIOUS_COLOUR = "#a6a6a6"


@dataclass(frozen=True)
class Chart:
    title: str
    png: bytes


def report_charts(report: ProvinceReport) -> tuple[Chart, ...]:
    """Accesses, then volume; none for a report without monthly figures (nothing to draw)."""
    points = report.monthly
    if not points:
        return ()
    labels = (report.period.label, report.period.previous_year().label)
    accesses = _bar_chart(
        points,
        [float(point.accesses) for point in points],
        [float(point.previous_accesses) for point in points],
        labels,
        axis_label="lượt",
        tick=lambda value: wording.count(round(value)),
        whole=True,
    )
    volume = _bar_chart(
        points,
        [point.bytes_exchanged / wording.GIGABYTE for point in points],
        [point.previous_bytes_exchanged / wording.GIGABYTE for point in points],
        labels,
        axis_label="Gigabai",
        tick=wording.decimal,
        whole=False,
    )
    return (Chart(ACCESSES_TITLE, accesses), Chart(VOLUME_TITLE, volume))


def _bar_chart(
    points: Sequence[MonthPoint],
    current: Sequence[float],
    previous: Sequence[float],
    labels: tuple[str, str],
    *,
    axis_label: str,
    tick: Callable[[float], str],
    whole: bool,
) -> bytes:
    """Grouped bars: this year's month beside last year's, so the growth reads at a glance."""
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    width = 0.4
    positions = range(len(points))
    axes.bar(
        [x - width / 2 for x in positions], current, width, label=labels[0], color=CURRENT_COLOUR
    )
    axes.bar(
        [x + width / 2 for x in positions], previous, width, label=labels[1], color=PREVIOUS_COLOUR
    )
    axes.set_xticks(list(positions), [f"T{point.month}" for point in points])
    axes.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=whole))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _position: tick(value)))
    axes.set_ylabel(axis_label)
    axes.set_ylim(bottom=0)
    axes.grid(axis="y", linewidth=0.5, alpha=0.5)
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(frameon=False, fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
