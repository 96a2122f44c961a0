"""The web mailbox's messages."""

from __future__ import annotations

VI: dict[str, str] = {
    # The home page's section
    "section.mail": "Thư điện tử",
    "section.mail.about": "Hộp thư công vụ",
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

EN: dict[str, str] = {
    # The home page's section
    "section.mail": "E-mail",
    "section.mail.about": "Official mailbox",
    "nav.main": "Shortcuts",
    "nav.mail": "Mail",
    "mail.unread_count": "{count} unread",
    "mail.folders": "Mail folders",
    "mail.inbox": "Inbox",
    "mail.sent": "Sent mail",
    "mail.compose": "Write a message",
    "mail.search": "Search mail (with or without Vietnamese diacritics)",
    "mail.search.placeholder": "e.g. cong van dong ha",
    "mail.search.none": "No messages match “{query}”.",
    "mail.total": "Messages: {count}",
    "mail.empty": "No messages yet.",
    "mail.from": "From",
    "mail.to": "To",
    "mail.cc": "Cc",
    "mail.subject": "Subject",
    "mail.date": "Date",
    "mail.size": "Size",
    "mail.body": "Message",
    "mail.no_subject": "(No subject)",
    "mail.new": "new",
    "mail.has_attachments": "has attachments",
    "mail.attachments": "Attachments",
    "mail.reply": "Reply",
    "mail.forward": "Forward",
    "mail.to_document": "Hand to the clerk for registration",
    "mail.mark_unread": "Mark as unread",
    "mail.send": "Send",
    "mail.notice.sent": "Your message has been sent.",
    "mail.notice.unread": "The message is marked as unread.",
    "mail.notice.document": (
        "This message has become an incoming document, waiting for the unit's clerk to register it."
    ),
    "mail.compose.addresses": (
        "Separate several addresses with commas, e.g. vanthu.tu@tinhuy.vn, lan@huyuy.vn"
    ),
    "mail.compose.attach": "Attachments (you may choose several files)",
    "mail.compose.carried": "The original message's attachments go along:",
    "mail.compose.limit": "The message and its attachments may not exceed {limit} bytes.",
    "mail.compose.too_large": (
        "The attachments are too large: a whole message may not exceed {limit} bytes. "
        "Please attach fewer files, choose them again and send again."
    ),
    "mail.reply.said": "On {when}, {who} wrote:",
    "mail.forward.header": "---------- Forwarded message ----------",
    "mail.to_document.inbox_only": "Only received mail can become an incoming document.",
    "mail.unavailable": "Mail is not enabled on this server. Please contact the administrator.",
    "mail.no_mailbox": "Your account has no mailbox on this server.",
    "mail.client.title": "Using a mail program (Thunderbird, Outlook, a phone)",
    "mail.client.intro": (
        "To send mail from a mail program, set up the outgoing (SMTP) server as follows. "
        "The connection is always encrypted: choose STARTTLS."
    ),
    "mail.client.address": "Your mail address",
    "mail.client.server": "Outgoing mail server (SMTP)",
    "mail.client.port": "Port",
    "mail.client.username": "Username",
    "mail.client.password": "Password",
    "mail.client.password.how": (
        "An app password the administrator issues for each device "
        "(not the password you sign in here with)."
    ),
    "mail.client.off": "This server does not accept mail programs yet.",
    "mail.client.ca": "Download the network's root (CA) certificate",
    "mail.client.ca.how": (
        "Install this certificate on the computer or phone (as a trusted certificate) so that "
        "the mail program trusts the unit's server."
    ),
    "event.from-mail": "Handed over from mail",
    "error.mail-unavailable.title": "Mail not available",
    "error.no-mailbox.title": "No mailbox",
    "error.unknown-mail.title": "Message not found",
    "error.unknown-attachment.title": "Attachment not found",
}

MESSAGES: dict[str, dict[str, str]] = {"vi": VI, "en": EN}
