"""Numbers and sentences the way the report writes them: ``43.785``, ``14,57``, "Gigabai".

Formatting goes through Babel's ``vi`` locale (dot groups thousands, comma is the decimal
mark). The rounding rules are the ones that reproduce report 13-BC/TU's own figures, and the
report's notes state them:

- a monthly average is the whole number of accesses (43.785 / 12 = 3.648,75 -> 3.648);
- its increase is the difference of the exact averages, rounded (3.648,75 - 501,17 -> 3.148);
- a volume is in gigabytes of 1024³ bytes, with at most two decimals (14,57; 3,5);
- an increase of volume that is not whole is "hơn" its whole part (11,07 -> "hơn 11").
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from office.reports.periods import Period
from office.reports.summary import PeriodFigures

LOCALE = "vi"
GIGABYTE = 1024**3
#: Said of a previous figure there is none of, instead of comparing with nothing.
NOT_AVAILABLE = "chưa có số liệu"


def _vietnamese(value: float, pattern: str) -> str:
    """Babel's number format; Babel loads when a number is first written, not at start (its
    locale data is some 7 MiB)."""
    from babel.numbers import format_decimal

    return str(format_decimal(value, format=pattern, locale=LOCALE))


def count(value: int) -> str:
    """``43785`` -> ``43.785``."""
    return _vietnamese(value, "#,##0")


def decimal(value: float, places: int = 2) -> str:
    """``14.57`` -> ``14,57``; ``3.5`` -> ``3,5`` (no trailing zeros)."""
    return _vietnamese(value, "#,##0." + "#" * places)


def gigabytes(size: int) -> float:
    return round(size / GIGABYTE, 2)


def round_half_up(value: float) -> int:
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent(part: int, whole: int) -> str:
    return f"{decimal(100 * part / whole, 1)}%" if whole else "-"


def _change(difference: float, unit: str, *, whole: bool) -> str:
    """``tăng 37.771 lượt người`` / ``giảm …`` / ``tăng hơn 11Gigabai``."""
    verb = "tăng" if difference >= 0 else "giảm"
    size = abs(difference)
    if whole:
        return f"{verb} {count(int(size))}{unit}"
    if size >= 1 and size != math.floor(size):
        return f"{verb} hơn {count(math.floor(size))}{unit}"
    return f"{verb} {decimal(size)}{unit}"


def counted_before(previous: PeriodFigures | None) -> bool:
    """Whether the same period a year before has counts to compare with. A year before the
    system counted anything has none: comparing with it would write the whole figure as an
    increase ("tăng 66" against nothing). The paragraph and the summary table both ask this."""
    return previous is not None and (
        previous.usage.accesses > 0 or previous.usage.bytes_exchanged > 0
    )


def usage_paragraph(period: Period, current: PeriodFigures, previous: PeriodFigures | None) -> str:
    """The report's sentence on network use, written from the figures.

    ``previous`` is the same period a year before; None (or no counts at all) says it has no
    figures and leaves the comparisons out rather than comparing with nothing.
    """
    compare = counted_before(previous)
    before = period.previous_year().label
    parts = [f"Đến {period.label} có"]
    if current.staff_total:
        parts.append(
            f" {count(current.staff_computer_literate)}/{count(current.staff_total)}"
            " người biết sử dụng vi tính,"
        )
    parts.append(
        f" {count(current.active_people)} người trực tiếp tham gia sử dụng mạng tin học,"
        f" có {count(current.usage.accesses)} lượt người truy cập mạng"
    )
    if compare and previous is not None:
        difference = current.usage.accesses - previous.usage.accesses
        # "người", not "lượt người": the seed report's own words, kept character for character.
        parts.append(
            f" ({before} là {count(previous.usage.accesses)} người,"
            f" {_change(difference, ' lượt người', whole=True)})"
        )
    else:
        parts.append(f" ({before} {NOT_AVAILABLE} để so sánh)")
    parts.append(
        f". Bình quân mỗi tháng có {count(math.floor(current.monthly_accesses))} lượt truy cập"
    )
    if compare and previous is not None:
        step = round_half_up(current.monthly_accesses - previous.monthly_accesses)
        parts.append(f", {_change(step, ' lượt', whole=True)}")
    volume = gigabytes(current.usage.bytes_exchanged)
    parts.append(f". Tổng lượng thông tin trao đổi {decimal(volume)}Gigabai")
    if compare and previous is not None:
        before_volume = gigabytes(previous.usage.bytes_exchanged)
        change = _change(round(volume - before_volume, 2), "Gigabai", whole=False)
        parts.append(f" ({before}: {decimal(before_volume)}Gigabai, {change})")
    parts.append(".")
    return "".join(parts)


NOTES = (
    "Lượt truy cập: một lần đăng nhập thành công của một người, vào hệ thống điều hành tác "
    "nghiệp trên web hoặc bằng chương trình thư điện tử (gửi thư qua SMTP).",
    "Người trực tiếp tham gia sử dụng mạng: số tài khoản khác nhau có ít nhất một lượt truy "
    "cập trong kỳ.",
    "Lượng thông tin trao đổi: tổng dung lượng văn bản điện tử (công văn, trạng thái, báo cáo, "
    "lịch công tác) gửi và nhận qua mạng diện rộng và thư điện tử gửi, nhận, tính tại từng đơn "
    "vị; 1 Gigabai = 1024³ bai.",
    "Bình quân mỗi tháng: tổng lượt truy cập chia cho số tháng đã qua của kỳ, lấy phần nguyên; "
    "mức tăng là hiệu hai mức bình quân, làm tròn đến hàng đơn vị.",
    "Số người biết sử dụng vi tính, tổng số cán bộ, máy tính, máy chủ, tình trạng mạng: do "
    "đơn vị nhập vào biểu mẫu báo cáo định kỳ; các số liệu còn lại do hệ thống tự thống kê.",
)
