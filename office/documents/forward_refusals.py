"""What forwarding a received document to the child units refuses (see
:mod:`office.documents.forwarding`): each message with its Vietnamese and English side by side."""

from __future__ import annotations

from config.refusals import Message

TO_FORWARD = Message(
    "document.may.forward",
    vi="chuyển tiếp văn bản đến cho đơn vị cấp dưới",
    en="forward received documents to subordinate units",
)
FORWARD_NOTE = Message("field.forward-note", vi="ý kiến chuyển tiếp", en="forwarding note")

NOT_REGISTERED = Message(
    "forward.not-registered",
    vi="Chỉ chuyển tiếp được văn bản đến đã vào sổ.",
    en="Only a registered incoming document can be forwarded.",
)
RECALL_PENDING = Message(
    "forward.recall-pending",
    vi=("Nơi gửi đang đề nghị thu hồi văn bản này: trả lời đề nghị thu hồi trước khi chuyển tiếp."),
    en="The sender is asking for this document back: answer the recall before forwarding it.",
)
SECRET = Message(
    "forward.secret",
    vi=(
        "Văn bản có độ mật ({level}) không được chuyển tiếp qua mạng (Luật Bảo vệ bí mật nhà "
        "nước 2018). Sao gửi bản giấy cho đơn vị cấp dưới qua đường cơ yếu hoặc giao liên."
    ),
    en=(
        "A secret document ({level}) may not be forwarded over the network (the 2018 Law on "
        "Protection of State Secrets). Send paper copies to the subordinate units by the "
        "cipher service or by courier."
    ),
)
NO_CHILD_CHOSEN = Message(
    "forward.no-unit",
    vi="Chưa chọn đơn vị nhận chuyển tiếp.",
    en="No unit has been chosen to forward to.",
)
NOT_A_CHILD = Message(
    "forward.not-a-child",
    vi=(
        "Chỉ chuyển tiếp được cho đơn vị trực thuộc đã nối mạng (có trong danh bạ, có khoá): "
        "{units} không phải."
    ),
    en=(
        "Documents can be forwarded only to subordinate units on the network (in the "
        "directory, with keys): {units} is not one."
    ),
)
ALREADY_FORWARDED = Message(
    "forward.already",
    vi="Văn bản đã được chuyển tiếp cho {units}.",
    en="The document has already been forwarded to {units}.",
)
BEING_SENT = Message(
    "forward.being-sent",
    vi="Lần chuyển tiếp này đang được gửi hoặc đã gửi xong; tải lại trang để xem.",
    en="This forward is being sent or has been sent; reload the page to see it.",
)
