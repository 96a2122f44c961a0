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

# Departments (phòng, ban) and the unit's head: keys.organisation
UNIT_NOT_HOSTED = Message(
    "organisation.unit-not-hosted",
    vi="Đơn vị {unit} không do máy chủ này quản lý.",
    en="Unit {unit} is not hosted by this node.",
)
BAD_DEPARTMENT_CODE = Message(
    "organisation.bad-code",
    vi="Mã phòng, ban «{code}» không hợp lệ: 1-16 chữ cái không dấu, chữ số, '-' hoặc '_'.",
    en="Department code «{code}» is not valid: 1-16 plain letters, digits, '-' or '_'.",
)
BAD_DEPARTMENT_NAME = Message(
    "organisation.bad-name",
    vi="Tên phòng, ban phải có từ 1 đến {limit} ký tự.",
    en="A department's name must have 1 to {limit} characters.",
)
DEPARTMENT_EXISTS = Message(
    "organisation.department-exists",
    vi="Đơn vị {unit} đã có phòng, ban mã {code}.",
    en="Unit {unit} already has a department coded {code}.",
)
NO_DEPARTMENT = Message(
    "organisation.no-department",
    vi="Đơn vị {unit} không có phòng, ban mã {code}.",
    en="Unit {unit} has no department coded {code}.",
)
DEPARTMENT_HAS_MEMBERS = Message(
    "organisation.department-has-members",
    vi="Phòng, ban {code} còn {count} người: chuyển họ sang phòng, ban khác trước khi xoá.",
    en="Department {code} still has {count} members: move them to another one before removing it.",
)
DEPARTMENT_IN_USE = Message(
    "organisation.department-in-use",
    vi="Phòng, ban {code} đã được giao văn bản: giữ lại để tra cứu, không xoá được.",
    en="Department {code} has been assigned documents: it is kept for the record, not removed.",
)
NOT_OF_UNIT = Message(
    "organisation.not-of-unit",
    vi="Tài khoản {user} không thuộc đơn vị {unit} hoặc đã bị vô hiệu hoá.",
    en="Account {user} is not of unit {unit}, or is disabled.",
)
NOT_HOSTED_ACCOUNT = Message(
    "organisation.not-hosted-account",
    vi="Không có tài khoản {user} trong các đơn vị do máy chủ này quản lý.",
    en="There is no account {user} in the units this node hosts.",
)
HEAD_NOT_LEADER = Message(
    "organisation.head-not-leader",
    vi="Lãnh đạo đơn vị phải là tài khoản có vai trò lãnh đạo; {user} không phải.",
    en="The unit's head must be an account with the leader role; {user} is not.",
)
ADMIN_NO_DEPARTMENT = Message(
    "organisation.admin-no-department",
    vi="Quản trị viên không đọc văn bản nên không thuộc phòng, ban nào.",
    en="An administrator reads no documents, so belongs to no department.",
)
