"""The messages every page shares (sign-in, menus, roles, errors) and the translator.

Templates and views name a message by its key (``_("signin.title")``), never by its text, so
that an English catalogue is one more dictionary with the same keys. Vietnamese is the
default. Placeholders are ``str.format`` fields: ``{minutes}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from config.errors import CongvanError

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
    "role.admin": "Quản trị hệ thống",
    "role.clerk": "Văn thư",
    "role.leader": "Lãnh đạo",
    "role.staff": "Chuyên viên",
    "clearance.0": "Không mật",
    "clearance.1": "Mật",
    "clearance.2": "Tối mật",
    "clearance.3": "Tuyệt mật",
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

EN: dict[str, str] = {
    # Application (office/web/messages.py)
    "app.name": "Electronic documents",
    "app.tagline": "Office management system",
    "app.node": "Server {node}",
    "nav.skip": "Skip to main content",
    "app.language": "Language",
    # Sign-in
    "signin.title": "Sign in",
    "signin.intro": (
        "Sign in with your staff account and the verification code from the authenticator app "
        "on your phone."
    ),
    "signin.username": "Username",
    "signin.password": "Password",
    "signin.totp": "Verification code (6 digits)",
    "signin.totp_hint": (
        "Open your authenticator app (Google Authenticator, FreeOTP…) and enter the code it "
        "is showing."
    ),
    "signin.submit": "Sign in",
    "signin.refused.bad-credentials": (
        "The username, password or verification code is incorrect. Please check and try again."
    ),
    "signin.refused.locked": (
        "Too many failed sign-in attempts from this network address. "
        "Please try again in {minutes} minutes or contact your administrator."
    ),
    "signin.refused.disabled": (
        "This account has been disabled. Please contact your unit's administrator."
    ),
    "signin.refused.no-totp": (
        "Two-factor authentication has not been set up for this account. "
        "Please contact your administrator to have it set up."
    ),
    "signin.notice.expired": "Your session has expired. Please sign in again.",
    "signin.notice.signed-out": "You have signed out.",
    "signin.notice.required": "Please sign in to continue.",
    # Signed in
    "signout.submit": "Sign out",
    "role.admin": "System administrator",
    "role.clerk": "Clerk",
    "role.leader": "Leader",
    "role.staff": "Staff",
    "clearance.0": "None",
    "clearance.1": "Confidential",
    "clearance.2": "Secret",
    "clearance.3": "Top secret",
    # Errors
    "error.title": "The action could not be completed",
    "error.csrf.title": "Invalid form",
    "error.csrf": (
        "The form is missing its security token, or the token is invalid (the page may have "
        "been open too long). No changes have been made. Please reload the page and try again."
    ),
    "error.not-found.title": "Page not found",
    "error.not-found": (
        "The page you are looking for does not exist or you do not have permission to view it."
    ),
    "error.method.title": "Invalid action",
    "error.method": "This page does not accept that action.",
    "error.back_home": "Back to home",
}

MESSAGES: dict[str, dict[str, str]] = {"vi": VI, "en": EN}


class Translator:
    """Looks messages up in one language's catalogue; a missing key is a programming error."""

    def __init__(self, language: str, catalogue: Mapping[str, str]) -> None:
        self.language = language
        self.catalogue = catalogue

    def __call__(self, key: str, **values: object) -> str:
        text = self.catalogue[key]
        return text.format(**values) if values else text

    def get(self, key: str, default: str) -> str:
        """The message for a key made from data (a peer's refusal code, say), or ``default``
        when there is none: a new code from a newer node still shows."""
        return self.catalogue.get(key, default)

    def refusal(self, error: CongvanError) -> str:
        """What a service refused, in this language (see :mod:`config.refusals`)."""
        return error.text(self.language)


def translators(parts: Iterable[Mapping[str, Mapping[str, str]]]) -> dict[str, Translator]:
    """One translator per language over the shared messages and every feature's, each part
    ``{language: {key: text}}``. Two parts defining one key is a programming error: the
    second would silently win."""
    catalogues: dict[str, dict[str, str]] = {}
    for part in (MESSAGES, *parts):
        for language, messages in part.items():
            catalogue = catalogues.setdefault(language, {})
            clash = catalogue.keys() & messages.keys()
            if clash:
                raise ValueError(f"messages defined twice: {sorted(clash)}")
            catalogue.update(messages)
    return {language: Translator(language, catalogue) for language, catalogue in catalogues.items()}
