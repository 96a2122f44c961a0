"""The web mailbox's messages (Vietnamese)."""

from __future__ import annotations

MAIL_VI: dict[str, str] = {
    "nav.main": "Lối tắt",
    "nav.mail": "Thư",
    "mail.unread_count": "{count} thư chưa đọc",
    "mail.folders": "Các hộp thư",
    "mail.inbox": "Hộp thư đến",
    "mail.sent": "Thư đã gửi",
    "mail.compose": "Soạn thư",
    "mail.search": "Tìm thư (gõ có dấu hoặc không dấu)",
    "mail.search.placeholder": "vd: cong van dong ha",
    "mail.search.none": "Không có thư nào khớp với “{query}”.",
    "mail.total": "{count} thư",
    "mail.empty": "Chưa có thư nào.",
    "mail.from": "Người gửi",
    "mail.to": "Người nhận",
    "mail.cc": "Đồng gửi (Cc)",
    "mail.subject": "Tiêu đề",
    "mail.date": "Ngày",
    "mail.size": "Dung lượng",
    "mail.body": "Nội dung",
    "mail.no_subject": "(Không có tiêu đề)",
    "mail.new": "mới",
    "mail.has_attachments": "có tệp đính kèm",
    "mail.attachments": "Tệp đính kèm",
    "mail.reply": "Trả lời",
    "mail.forward": "Chuyển tiếp",
    "mail.to_document": "Chuyển văn thư vào sổ",
    "mail.mark_unread": "Đánh dấu chưa đọc",
    "mail.send": "Gửi thư",
    "mail.notice.sent": "Đã gửi thư.",
    "mail.notice.unread": "Đã đánh dấu thư là chưa đọc.",
    "mail.notice.document": (
        "Thư này đã được chuyển thành văn bản đến, đang chờ văn thư của đơn vị vào sổ."
    ),
    "mail.compose.addresses": (
        "Nhiều địa chỉ thì cách nhau bằng dấu phẩy, vd: vanthu.tu@tinhuy.vn, lan@huyuy.vn"
    ),
    "mail.compose.attach": "Tệp đính kèm (có thể chọn nhiều tệp)",
    "mail.compose.carried": "Các tệp đính kèm của thư gốc được gửi kèm:",
    "mail.compose.limit": "Cả thư và tệp đính kèm không được quá {limit} byte.",
    "mail.compose.too_large": (
        "Tệp đính kèm quá lớn: cả thư không được quá {limit} byte. "
        "Vui lòng bớt tệp rồi chọn lại tệp và gửi lại."
    ),
    "mail.reply.said": "Vào {when}, {who} đã viết:",
    "mail.forward.header": "---------- Thư chuyển tiếp ----------",
    "mail.to_document.inbox_only": "Chỉ thư đến mới chuyển được thành văn bản đến.",
    "mail.unavailable": "Máy chủ này chưa bật thư điện tử. Vui lòng liên hệ quản trị viên.",
    "mail.no_mailbox": "Tài khoản của bạn chưa có hộp thư trên máy chủ này.",
    "mail.client.title": "Dùng phần mềm thư (Thunderbird, Outlook, điện thoại)",
    "mail.client.intro": (
        "Để gửi thư từ phần mềm thư, khai báo máy chủ gửi thư (SMTP) như sau. "
        "Kết nối luôn được mã hoá: chọn STARTTLS."
    ),
    "mail.client.address": "Địa chỉ thư của bạn",
    "mail.client.server": "Máy chủ gửi thư (SMTP)",
    "mail.client.port": "Cổng",
    "mail.client.username": "Tên đăng nhập",
    "mail.client.password": "Mật khẩu",
    "mail.client.password.how": (
        "Mật khẩu ứng dụng do quản trị viên cấp riêng cho từng thiết bị "
        "(không dùng mật khẩu đăng nhập trang này)."
    ),
    "mail.client.off": "Máy chủ này chưa mở cổng gửi thư cho phần mềm thư.",
    "mail.client.ca": "Tải chứng thư gốc (CA) của mạng",
    "mail.client.ca.how": (
        "Cài chứng thư này vào máy tính hoặc điện thoại (mục chứng thư tin cậy) để phần mềm "
        "thư tin máy chủ của đơn vị."
    ),
    "event.from-mail": "Chuyển từ thư điện tử",
    "error.mail-unavailable.title": "Chưa có thư điện tử",
    "error.no-mailbox.title": "Chưa có hộp thư",
    "error.unknown-mail.title": "Không tìm thấy thư",
    "error.unknown-attachment.title": "Không tìm thấy tệp đính kèm",
}
