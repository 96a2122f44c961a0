"""Forwarding's page messages (chuyển tiếp): the clerk's form, each forward's timeline, and on
the receiving unit's copy, who forwarded it."""

from __future__ import annotations

VI: dict[str, str] = {
    "forward.title": "Chuyển tiếp cho đơn vị cấp dưới",
    "forward.hint": (
        "Văn bản được gửi nguyên vẹn (tệp và chữ ký số của nơi ban hành giữ nguyên), ghi rõ "
        "nơi ban hành, số và ngày văn bản gốc."
    ),
    "forward.units": "Đơn vị nhận",
    "forward.note": "Ý kiến chuyển tiếp (không bắt buộc)",
    "forward.submit": "Chuyển tiếp",
    "forward.sent": "Đã chuyển tiếp",
    "forward.by": "Người chuyển",
    "forward.at": "Lúc",
    "forward.waiting": "Đang gửi",
    "forward.stalled": "Chưa gửi được (xem lý do ở quá trình xử lý)",
    "forward.resend": "Gửi lại",
    "forward.forwarded_by": "Chuyển tiếp bởi",
    "forward.original_signed": (
        "Tệp giữ nguyên chữ ký số của nơi ban hành; đơn vị chuyển tiếp ký số trên gói tin."
    ),
    "event.forward": "Chuyển tiếp",
    "event.forward-failed": "Chuyển tiếp chưa gửi được",
}

EN: dict[str, str] = {
    "forward.title": "Forward to subordinate units",
    "forward.hint": (
        "The document is sent whole (its files and the issuer's digital signatures unchanged), "
        "naming the original issuer, number and date."
    ),
    "forward.units": "Receiving units",
    "forward.note": "Forwarding note (optional)",
    "forward.submit": "Forward",
    "forward.sent": "Forwarded",
    "forward.by": "Forwarded by",
    "forward.at": "At",
    "forward.waiting": "Sending",
    "forward.stalled": "Not sent yet (see the reason in the processing log)",
    "forward.resend": "Send again",
    "forward.forwarded_by": "Forwarded by",
    "forward.original_signed": (
        "The files keep the issuer's digital signatures; the forwarding unit signed the dispatch."
    ),
    "event.forward": "Forwarded",
    "event.forward-failed": "Forward not sent",
}

MESSAGES: dict[str, dict[str, str]] = {"vi": VI, "en": EN}
