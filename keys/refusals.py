"""What the keys layer refuses where a member of staff may read it, each message with its
Vietnamese and English side by side (see :mod:`config.refusals`)."""

from __future__ import annotations

from config.refusals import Message

PASSWORD_TOO_SHORT = Message(
    "password.too-short",
    vi="mật khẩu quá ngắn: cần ít nhất {minimum} ký tự",
    en="the password is too short: it needs at least {minimum} characters",
)
PASSWORD_TOO_COMMON = Message(
    "password.too-common",
    vi="mật khẩu quá phổ biến, dễ đoán",
    en="the password is too common, easy to guess",
)
PASSWORD_GUESSABLE = Message(
    "password.guessable",
    vi="mật khẩu dễ đoán: dùng một cụm từ dài hơn",
    en="the password is easy to guess: use a longer phrase",
)
PIN_TOO_SHORT = Message(
    "signing.pin-too-short",
    vi="Mã PIN ký quá ngắn: cần ít nhất {minimum} ký tự.",
    en="The signing PIN is too short: it needs at least {minimum} characters.",
)
NO_PENDING_KEY = Message(
    "signing.no-pending-key",
    vi="Không có khoá ký số nào đang chờ kích hoạt cho bạn: đề nghị quản trị cài đặt khoá do "
    "CA cấp.",
    en="No signing key is waiting for your activation: ask the administrator to install the one "
    "the CA issued.",
)
BAD_ACTIVATION_CODE = Message(
    "signing.bad-activation-code",
    vi="Mã kích hoạt không đúng.",
    en="The activation code is not right.",
)
NO_SIGNING_KEY = Message(
    "signing.no-signing-key",
    vi="Bạn chưa có khoá ký số riêng đã kích hoạt, nên chưa thể ký.",
    en="You have no activated signing key of your own, so you cannot sign.",
)
BAD_PIN = Message(
    "signing.bad-pin",
    vi="Mã PIN ký không đúng; còn {left} lần thử trước khi việc ký bị khoá.",
    en="The signing PIN is not right; {left} tries left before signing is locked.",
)
SIGNING_LOCKED = Message(
    "signing.locked",
    vi="Nhập sai mã PIN ký quá nhiều lần: việc ký bị khoá, thử lại sau {minutes} phút.",
    en="Too many wrong signing PINs: signing is locked, try again in {minutes} minutes.",
)
CERTIFICATE_REVOKED = Message(
    "signing.certificate-revoked",
    vi="Chứng thư ký số của bạn đã bị thu hồi: không thể ký.",
    en="Your signing certificate has been revoked: you cannot sign.",
)
CERTIFICATE_EXPIRED = Message(
    "signing.certificate-expired",
    vi="Chứng thư ký số của bạn đã hết hạn: không thể ký.",
    en="Your signing certificate has expired: you cannot sign.",
)
CERTIFICATE_NOT_YET_VALID = Message(
    "signing.certificate-not-yet-valid",
    vi="Chứng thư ký số của bạn chưa có hiệu lực: chưa thể ký.",
    en="Your signing certificate is not valid yet: you cannot sign yet.",
)
CERTIFICATE_UNTRUSTED = Message(
    "signing.certificate-untrusted",
    vi="Chứng thư ký số của bạn không do CA của tỉnh cấp: không thể ký.",
    en="Your signing certificate was not issued by the province's CA: you cannot sign.",
)
REVOCATION_UNKNOWN = Message(
    "signing.revocation-unknown",
    vi="Chưa kiểm tra được chứng thư có bị thu hồi không (danh sách thu hồi quá hạn hoặc "
    "thiếu): tạm thời không thể ký.",
    en="Whether your certificate was revoked cannot be checked (the revocation list is out of "
    "date or missing): you cannot sign for now.",
)
KEY_CHANGED_MEANWHILE = Message(
    "signing.key-changed-meanwhile",
    vi="Khoá ký số của bạn vừa được thay đổi ở nơi khác: hãy thử lại.",
    en="Your signing key was changed elsewhere meanwhile: try again.",
)
