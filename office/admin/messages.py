"""The administrator's pages' messages: accounts and second factors."""

from __future__ import annotations

VI: dict[str, str] = {
    # The home page's section
    "section.admin": "Quản trị",
    "section.admin.about": "Tài khoản, đơn vị, khoá và thống kê",
    "admin.title": "Quản trị tài khoản",
    "admin.intro": "Tài khoản cán bộ của các đơn vị do máy chủ này quản lý: {units}.",
    "admin.sign_ins_today": (
        "Đăng nhập hôm nay (web và ứng dụng thư): {signed_in} thành công, {refused} bị từ chối "
        "(không tính là lượt truy cập); {locked} tài khoản đang bị tạm khoá."
    ),
    "admin.empty": "Chưa có tài khoản nào.",
    "admin.col.username": "Tên đăng nhập",
    "admin.col.full_name": "Họ và tên",
    "admin.col.unit": "Đơn vị",
    "admin.col.role": "Vai trò",
    "admin.col.clearance": "Mức mật được xem",
    "admin.col.totp": "Xác thực hai lớp",
    "admin.col.locked_until": "Khoá đến",
    "admin.col.duties": "Chức vụ, nhiệm vụ",
    "admin.duties.title": "Chức vụ",
    "admin.duties.reviewer": "Cho ý kiến dự thảo",
    "admin.duties.signer": "Có thẩm quyền ký",
    "admin.duties.save": "Lưu",
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
    "admin.notice.duties": "Đã lưu chức vụ, nhiệm vụ của {user}.",
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
    "admin.organisation.title": "Lãnh đạo đơn vị, phòng, ban",
    "admin.organisation.link": "Lãnh đạo đơn vị, phòng, ban",
    "admin.organisation.intro": (
        "Văn bản đến được trình lãnh đạo đơn vị, trừ khi văn thư chọn lãnh đạo khác; văn bản "
        "giao phòng, ban do trưởng phòng, ban phân công cho người trong phòng, ban."
    ),
    "admin.organisation.head": "Lãnh đạo đơn vị (được trình văn bản đến)",
    "admin.organisation.none": "— Không —",
    "admin.organisation.departments": "Phòng, ban",
    "admin.organisation.code": "Mã",
    "admin.organisation.name": "Tên",
    "admin.organisation.members": "Số người",
    "admin.organisation.department_head": "Trưởng phòng, ban",
    "admin.organisation.remove": "Xoá",
    "admin.organisation.add": "Thêm phòng, ban",
    "admin.organisation.membership": "Cán bộ thuộc phòng, ban",
    "admin.organisation.department": "Phòng, ban",
    "admin.organisation.notice.head": "Đã lưu lãnh đạo đơn vị.",
    "admin.organisation.notice.added": "Đã thêm phòng, ban.",
    "admin.organisation.notice.removed": "Đã xoá phòng, ban.",
    "admin.organisation.notice.department-head": "Đã lưu trưởng phòng, ban.",
    "admin.organisation.notice.member": "Đã lưu phòng, ban của cán bộ.",
    "error.unknown-user.title": "Không tìm thấy tài khoản",
}

EN: dict[str, str] = {
    # The home page's section
    "section.admin": "Administration",
    "section.admin.about": "Accounts, units, keys and statistics",
    "admin.title": "Account administration",
    "admin.intro": "Staff accounts of the units managed by this server: {units}.",
    "admin.sign_ins_today": (
        "Sign-ins today (web and mail clients): {signed_in} succeeded, {refused} refused (not "
        "counted as accesses); {locked} accounts locked now."
    ),
    "admin.empty": "There are no accounts yet.",
    "admin.col.username": "Username",
    "admin.col.full_name": "Full name",
    "admin.col.unit": "Unit",
    "admin.col.role": "Role",
    "admin.col.clearance": "Clearance",
    "admin.col.totp": "Two-factor authentication",
    "admin.col.locked_until": "Locked until",
    "admin.col.duties": "Title and duties",
    "admin.duties.title": "Title",
    "admin.duties.reviewer": "Reviews drafts",
    "admin.duties.signer": "Signing authority",
    "admin.duties.save": "Save",
    "admin.col.state": "Status",
    "admin.col.actions": "Actions",
    "admin.totp.enrolled": "Set up",
    "admin.totp.missing": "Not set up",
    "admin.state.active": "Active",
    "admin.state.disabled": "Disabled",
    "admin.action.unlock": "Unlock",
    "admin.action.totp": "Reissue verification code",
    "admin.action.disable": "Disable",
    "admin.action.enable": "Re-enable",
    "admin.notice.unlocked": "Account {user} has been unlocked and can sign in again.",
    "admin.notice.disabled": (
        "Account {user} has been disabled; its open sessions have been ended."
    ),
    "admin.notice.enabled": "Account {user} has been re-enabled.",
    "admin.notice.duties": "The title and duties of {user} have been saved.",
    "admin.totp.title": "New verification code",
    "admin.totp.account": "Account",
    "admin.totp.once": (
        "The QR code and secret key below are shown only once. Hand them to the user in "
        "person: do not photograph, print or send them by e-mail or text message. Close this "
        "page when you have finished."
    ),
    "admin.totp.scan": (
        "The user opens their authenticator app (Google Authenticator, FreeOTP…) and scans "
        "this QR code."
    ),
    "admin.totp.qr_alt": "QR code to set up the authenticator app for account {user}",
    "admin.totp.manual": "Or enter the secret key (time-based, 6 digits, 30 seconds):",
    "admin.totp.ended": (
        "The old verification code no longer works; the account's open sessions have been ended."
    ),
    "admin.back": "Back to the account list",
    "admin.refused.unknown-user": (
        "There is no account “{user}” in the units managed by this server. "
        "Other units' accounts are administered on those units' own servers."
    ),
    "admin.refused.own-account": (
        "You cannot disable the account you are signed in with. "
        "Please ask another administrator to do it."
    ),
    "admin.organisation.title": "Head of unit and departments",
    "admin.organisation.link": "Head of unit and departments",
    "admin.organisation.intro": (
        "Incoming documents are presented to the head of the unit unless the clerk chooses "
        "another leader; work given to a department is shared out by its head among its members."
    ),
    "admin.organisation.head": "Head of the unit (incoming documents are presented to them)",
    "admin.organisation.none": "— None —",
    "admin.organisation.departments": "Departments",
    "admin.organisation.code": "Code",
    "admin.organisation.name": "Name",
    "admin.organisation.members": "Members",
    "admin.organisation.department_head": "Head of department",
    "admin.organisation.remove": "Remove",
    "admin.organisation.add": "Add a department",
    "admin.organisation.membership": "Who belongs to which department",
    "admin.organisation.department": "Department",
    "admin.organisation.notice.head": "The head of the unit has been saved.",
    "admin.organisation.notice.added": "The department has been added.",
    "admin.organisation.notice.removed": "The department has been removed.",
    "admin.organisation.notice.department-head": "The head of the department has been saved.",
    "admin.organisation.notice.member": "The member's department has been saved.",
    "error.unknown-user.title": "Account not found",
}

MESSAGES: dict[str, dict[str, str]] = {"vi": VI, "en": EN}
