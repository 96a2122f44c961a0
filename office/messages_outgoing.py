"""The outgoing register's and the timeline's messages (Vietnamese)."""

from __future__ import annotations

OUTGOING_VI: dict[str, str] = {
    "outgoing.title": "Văn bản đi",
    "outgoing.drafts": "Dự thảo chờ phát hành",
    "outgoing.drafts.empty": "Không có dự thảo nào chờ phát hành.",
    "outgoing.register": "Sổ văn bản đi",
    "outgoing.register.empty": "Không có văn bản nào khớp với điều kiện lọc.",
    "outgoing.new": "Soạn văn bản đi",
    "outgoing.new.intro": (
        "Tải lên văn bản đã hoàn chỉnh dưới dạng PDF và chọn nơi nhận. Văn thư sẽ cấp số, "
        "ký số bằng khoá của đơn vị và phát hành."
    ),
    "outgoing.new.submit": "Lưu dự thảo",
    "outgoing.recipients": "Nơi nhận",
    "outgoing.recipients.groups": "Gửi theo nhóm",
    "outgoing.recipients.units": "Hoặc chọn từng đơn vị",
    "outgoing.group.districts": "Tất cả huyện, thị, thành uỷ",
    "outgoing.group.boards": "Các ban, đảng uỷ trực thuộc",
    "outgoing.group.province": "Tỉnh uỷ",
    "kind.province": "Tỉnh uỷ",
    "kind.board": "Các ban, cơ quan tham mưu",
    "kind.sector": "Đảng uỷ trực thuộc",
    "kind.district": "Huyện, thị, thành uỷ",
    "kind.commune": "Xã, phường, thị trấn",
    "kind.other": "Đơn vị khác",
    "outgoing.col.symbol": "Số, ký hiệu",
    "outgoing.col.issued": "Ngày tháng",
    "outgoing.col.summary": "Tên loại và trích yếu nội dung",
    "outgoing.col.signer": "Người ký",
    "outgoing.col.recipients": "Nơi nhận",
    "outgoing.col.keeper": "Đơn vị, người nhận bản lưu",
    "outgoing.col.copies": "Số lượng bản",
    "outgoing.col.sent": "Ngày chuyển",
    "outgoing.col.receipts": "Ký nhận",
    "outgoing.col.note": "Ghi chú",
    "outgoing.col.created": "Ngày soạn",
    "outgoing.col.drafter": "Người soạn",
    "outgoing.receipts": "{count}/{total} đơn vị",
    "outgoing.secret": "(sổ mật)",
    "outgoing.keeper": "Văn thư; {name}",
    "outgoing.timeline": "Theo dõi gửi, nhận",
    "outgoing.timeline.unit": "Đơn vị nhận",
    "outgoing.timeline.steps": "Diễn biến",
    "outgoing.timeline.empty": "Văn bản chưa được gửi.",
    "outgoing.send_problem": (
        "Văn bản đã được cấp số nhưng chưa gửi được: {reason}. Số văn bản được giữ nguyên; "
        "khắc phục nguyên nhân rồi bấm “Gửi lại”."
    ),
    "outgoing.recall_state.requested": "Đã đề nghị thu hồi",
    "outgoing.recall_state.agreed": "Đã thu hồi",
    "outgoing.recall_state.refused": "Bị từ chối thu hồi",
    "action.issue": "Cấp số, ký số và phát hành",
    "action.issue.hint": (
        "Văn bản sẽ được cấp số tiếp theo trong sổ văn bản đi năm nay, ký số bằng khoá của "
        "đơn vị và gửi ngay tới các nơi nhận."
    ),
    "action.resend": "Gửi lại",
    "action.recall": "Thu hồi văn bản",
    "action.recall.note": "Lý do thu hồi",
    "action.recall.hint": "Đề nghị thu hồi được gửi tới tất cả nơi nhận.",
    "action.recall.agree": "Đồng ý thu hồi",
    "action.recall.refuse": "Từ chối thu hồi",
    "action.recall.refuse.note": "Lý do từ chối",
    "timeline.sent": "Đã gửi",
    "timeline.delivered": "Đã đến (biên nhận có ký số)",
    "timeline.refused": "Nơi nhận từ chối nhận",
    "timeline.failed": "Không gửi được",
    "timeline.waiting": "Đang chuyển",
    "status.01": "Đã nhận",
    "status.02": "Trả lại",
    "status.03": "Đã vào sổ",
    "status.04": "Đã phân công",
    "status.05": "Đang xử lý",
    "status.06": "Hoàn thành",
    "status.13": "Đề nghị thu hồi",
    "status.15": "Đồng ý thu hồi",
    "status.16": "Từ chối thu hồi",
    "recall.requested": "Nơi gửi đề nghị thu hồi văn bản này",
    "recall.agreed": "Đã đồng ý thu hồi: văn bản không còn hiệu lực",
    "recall.refused": "Đã từ chối thu hồi",
    "event.drafted": "Soạn dự thảo",
    "event.issued": "Cấp số, ký số",
    "event.send-attempt": "Gửi đi",
    "event.send-failed": "Gửi không thành công",
    "event.sent": "Đã phát hành",
    "event.recall-requested": "Đề nghị thu hồi",
    "event.recall-agreed": "Đồng ý thu hồi",
    "event.recall-refused": "Từ chối thu hồi",
    # Sửa, xoá dự thảo (office/documents/web/drafts.py)
    "outgoing.edit": "Sửa dự thảo văn bản đi",
    "outgoing.edit.back": "Về dự thảo",
    "outgoing.edit.intro": (
        "Sửa thông tin và nơi nhận của dự thảo. Muốn thay tệp văn bản thì chọn tệp PDF mới; "
        "để trống thì giữ tệp hiện tại."
    ),
    "outgoing.edit.file": "Thay tệp văn bản (PDF, không bắt buộc)",
    "outgoing.edit.current_file": "Tệp hiện tại: {name}",
    "outgoing.edit.submit": "Lưu thay đổi",
    "outgoing.notice.deleted": "Đã xoá dự thảo.",
    "action.edit_draft": "Sửa dự thảo",
    "action.delete_draft": "Xoá dự thảo",
    "action.delete_draft.hint": (
        "Dự thảo chưa có số sẽ bị xoá hẳn, cùng tệp và lịch sử xử lý của nó. "
        "Không khôi phục lại được."
    ),
    "action.delete_draft.confirm": "Xác nhận xoá dự thảo",
    "event.edited": "Sửa dự thảo",
}
