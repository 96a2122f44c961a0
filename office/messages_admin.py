"""The administrator's pages' messages (Vietnamese)."""

from __future__ import annotations

ADMIN_VI: dict[str, str] = {
    "admin.title": "Quản trị tài khoản",
    "admin.intro": "Tài khoản cán bộ của các đơn vị do máy chủ này quản lý: {units}.",
    "admin.empty": "Chưa có tài khoản nào.",
    "admin.col.username": "Tên đăng nhập",
    "admin.col.full_name": "Họ và tên",
    "admin.col.unit": "Đơn vị",
    "admin.col.role": "Vai trò",
    "admin.col.clearance": "Mức mật được xem",
    "admin.col.totp": "Xác thực hai lớp",
    "admin.col.locked_until": "Khoá đến",
    "admin.col.state": "Trạng thái",
    "admin.col.actions": "Thao tác",
    "admin.totp.enrolled": "Đã đăng ký",
    "admin.totp.missing": "Chưa đăng ký",
    "admin.state.active": "Đang hoạt động",
    "admin.state.disabled": "Đã vô hiệu hoá",
    "admin.action.unlock": "Mở khoá",
    "admin.action.totp": "Cấp lại mã xác thực",
    "admin.action.disable": "Vô hiệu hoá",
    "admin.action.enable": "Kích hoạt lại",
    "admin.notice.unlocked": "Đã mở khoá tài khoản {user}; tài khoản có thể đăng nhập lại.",
    "admin.notice.disabled": (
        "Đã vô hiệu hoá tài khoản {user}; các phiên đăng nhập đang mở của tài khoản đã kết thúc."
    ),
    "admin.notice.enabled": "Đã kích hoạt lại tài khoản {user}.",
    "admin.totp.title": "Mã xác thực mới",
    "admin.totp.account": "Tài khoản",
    "admin.totp.once": (
        "Mã QR và khoá bí mật dưới đây chỉ hiện một lần. Hãy trao tận tay cho người dùng: "
        "không chụp, không in, không gửi qua thư điện tử hay tin nhắn. Đóng trang này khi xong."
    ),
    "admin.totp.scan": (
        "Người dùng mở ứng dụng xác thực (Google Authenticator, FreeOTP…) và quét mã QR này."
    ),
    "admin.totp.qr_alt": "Mã QR đăng ký ứng dụng xác thực cho tài khoản {user}",
    "admin.totp.manual": "Hoặc nhập khoá bí mật (loại theo thời gian, 6 chữ số, 30 giây):",
    "admin.totp.ended": (
        "Mã xác thực cũ không còn dùng được; các phiên đăng nhập đang mở của tài khoản đã kết thúc."
    ),
    "admin.back": "Về danh sách tài khoản",
    "admin.refused.unknown-user": (
        "Không có tài khoản «{user}» trong các đơn vị do máy chủ này quản lý. "
        "Tài khoản của đơn vị khác được quản trị trên máy chủ của đơn vị đó."
    ),
    "admin.refused.own-account": (
        "Không thể tự vô hiệu hoá tài khoản đang đăng nhập. "
        "Hãy nhờ một quản trị viên khác thực hiện."
    ),
    "error.unknown-user.title": "Không tìm thấy tài khoản",
}
