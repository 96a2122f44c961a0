"""Every piece of text the staff pages show, in one catalogue per language.

Templates and views name a message by its key (``_("signin.title")``), never by its text, so
that an English catalogue is one more dictionary with the same keys. Vietnamese is the
default. Placeholders are ``str.format`` fields: ``{minutes}``.
"""

from __future__ import annotations

from office.messages_admin import ADMIN_VI
from office.messages_en import EN
from office.messages_feeds import FEEDS_VI
from office.messages_incoming import INCOMING_VI
from office.messages_mail import MAIL_VI
from office.messages_outgoing import OUTGOING_VI
from office.messages_reports import REPORTS_EN, REPORTS_VI
from office.messages_schedule import SCHEDULE_EN, SCHEDULE_VI

DEFAULT_LANGUAGE = "vi"

VI: dict[str, str] = {
    "app.name": "Công văn điện tử",
    "app.tagline": "Hệ thống điều hành tác nghiệp",
    "app.node": "Máy chủ {node}",
    "nav.skip": "Bỏ qua, đến nội dung chính",
    "app.language": "Ngôn ngữ",
    # Sign-in
    "signin.title": "Đăng nhập",
    "signin.intro": "Đăng nhập bằng tài khoản cán bộ và mã xác thực trên ứng dụng điện thoại.",
    "signin.username": "Tên đăng nhập",
    "signin.password": "Mật khẩu",
    "signin.totp": "Mã xác thực (6 chữ số)",
    "signin.totp_hint": (
        "Mở ứng dụng xác thực (Google Authenticator, FreeOTP…) và nhập mã đang hiện."
    ),
    "signin.submit": "Đăng nhập",
    "signin.refused.bad-credentials": (
        "Tên đăng nhập, mật khẩu hoặc mã xác thực không đúng. Vui lòng kiểm tra và thử lại."
    ),
    "signin.refused.locked": (
        "Đăng nhập sai quá nhiều lần từ địa chỉ mạng này. "
        "Vui lòng thử lại sau {minutes} phút hoặc liên hệ quản trị viên."
    ),
    "signin.refused.disabled": (
        "Tài khoản đã bị vô hiệu hoá. Vui lòng liên hệ quản trị viên của đơn vị."
    ),
    "signin.refused.no-totp": (
        "Tài khoản chưa được đăng ký mã xác thực hai lớp. "
        "Vui lòng liên hệ quản trị viên để được cấp."
    ),
    "signin.notice.expired": "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.",
    "signin.notice.signed-out": "Bạn đã đăng xuất.",
    "signin.notice.required": "Vui lòng đăng nhập để tiếp tục.",
    # Signed in
    "signout.submit": "Đăng xuất",
    "home.title": "Trang chủ",
    "home.greeting": "Xin chào, {name}",
    "home.unit": "Đơn vị",
    "home.role": "Vai trò",
    "home.clearance": "Được xem tài liệu mật đến mức",
    "home.signed_in_at": "Đăng nhập lúc",
    "home.sections": "Chức năng",
    "home.tasks": "Việc của tôi",
    "home.tasks.none": "Không có việc nào đang chờ bạn xử lý.",
    "home.followed": "Việc đã giao sắp đến hạn hoặc quá hạn",
    "home.awaiting_direction": "Văn bản chờ ý kiến chỉ đạo",
    "home.queue": "Văn bản đến chờ vào sổ",
    "home.due_soon": "Sắp đến hạn",
    "home.figures.received": "Văn bản đến trong năm",
    "home.figures.in_progress": "Đang xử lý",
    "home.figures.overdue": "Quá hạn",
    "home.figures.done": "Đã hoàn thành trong năm",
    "role.admin": "Quản trị hệ thống",
    "role.clerk": "Văn thư",
    "role.leader": "Lãnh đạo",
    "role.staff": "Chuyên viên",
    "clearance.0": "Không mật",
    "clearance.1": "Mật",
    "clearance.2": "Tối mật",
    "clearance.3": "Tuyệt mật",
    "section.incoming": "Văn bản đến",
    "section.incoming.about": "Tiếp nhận, vào sổ và xử lý văn bản đến",
    "section.outgoing": "Văn bản đi",
    "section.outgoing.about": "Soạn, ký số và phát hành văn bản đi",
    "section.schedule": "Lịch công tác",
    "section.schedule.about": "Lịch làm việc tuần của đơn vị",
    "section.mail": "Thư điện tử",
    "section.mail.about": "Hộp thư công vụ",
    "section.search": "Tìm kiếm",
    "section.search.about": "Tìm văn bản theo trích yếu, số ký hiệu, nơi gửi",
    "section.admin": "Quản trị",
    "section.admin.about": "Tài khoản, đơn vị, khoá và thống kê",
    # Errors
    "error.title": "Không thực hiện được",
    "error.csrf.title": "Biểu mẫu không hợp lệ",
    "error.csrf": (
        "Biểu mẫu thiếu mã bảo vệ hoặc mã không hợp lệ (có thể trang đã mở quá lâu). "
        "Không có thay đổi nào được thực hiện. Vui lòng tải lại trang rồi thử lại."
    ),
    "error.not-found.title": "Không tìm thấy trang",
    "error.not-found": "Trang bạn tìm không tồn tại hoặc bạn không có quyền xem.",
    "error.method.title": "Thao tác không hợp lệ",
    "error.method": "Trang này không nhận thao tác đó.",
    "error.back_home": "Về trang chủ",
}

VI.update(INCOMING_VI)
VI.update(OUTGOING_VI)
VI.update(ADMIN_VI)
VI.update(MAIL_VI)
VI.update(SCHEDULE_VI)
EN.update(SCHEDULE_EN)
VI.update(FEEDS_VI)
VI.update(REPORTS_VI)
EN.update(REPORTS_EN)

CATALOGUES: dict[str, dict[str, str]] = {"vi": VI, "en": EN}


class Translator:
    """Looks messages up in one language's catalogue; a missing key is a programming error."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language
        self.catalogue = CATALOGUES[language]

    def __call__(self, key: str, **values: object) -> str:
        text = self.catalogue[key]
        return text.format(**values) if values else text
