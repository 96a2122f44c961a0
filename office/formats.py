"""Dates, times and sizes the Vietnamese way, for pages, documents, reports and the CLI alike.

Services format too (a PDF stamp, a report, a mail notice), so these live outside the web
layer's catalogues.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

#: Vietnam keeps one offset all year (no daylight saving): dates are shown in it.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")


def local_time(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM_TIME)


def format_date(moment: datetime) -> str:
    """``28/11/2026``: the day, in Vietnam."""
    return format_day(local_time(moment))


def format_day(day: date) -> str:
    """``28/11/2026`` for a calendar date (a deadline, a document's date). Formatted by hand:
    ``strftime`` took three times as long, and a register page shows a hundred dates."""
    return f"{day.day:02}/{day.month:02}/{day.year}"


def format_size(size: int) -> str:
    """``1,5 MB``: sizes the Vietnamese way (decimal comma)."""
    value, unit = float(size), "B"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            break
        value /= 1024
    text = f"{value:.0f}" if unit == "B" else f"{value:.1f}"
    return f"{text.replace('.', ',')} {unit}"


def format_datetime(moment: datetime) -> str:
    """``28/11/2026 14:05``: the day and the time, in Vietnam."""
    return local_time(moment).strftime("%d/%m/%Y %H:%M")
