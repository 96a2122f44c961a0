"""What the shared web layer refuses (a posted form it cannot read), each message with its
Vietnamese and English side by side (see :mod:`config.refusals`); the pages' own messages are
in :mod:`office.web.messages`."""

from __future__ import annotations

from config.refusals import Message

NO_FORM_ID = Message(
    "form.no-id",
    vi="Biểu mẫu thiếu mã gửi. Vui lòng tải lại trang.",
    en="The form is missing its submission code. Please reload the page.",
)
FIELD_TOO_LONG = Message(
    "form.field-too-long",
    vi="Một trường của biểu mẫu dài quá giới hạn.",
    en="A field of the form is longer than allowed.",
)
NOT_AN_UPLOAD_FORM = Message(
    "form.not-an-upload",
    vi="Biểu mẫu gửi tệp không đúng dạng.",
    en="The file upload form is not in the expected format.",
)
NO_FORM_TOKEN = Message(
    "form.no-token",
    vi="Biểu mẫu thiếu mã bảo vệ.",
    en="The form is missing its security token.",
)
BAD_FORM_TOKEN = Message(
    "form.bad-token",
    vi="Biểu mẫu thiếu mã bảo vệ hoặc mã không hợp lệ.",
    en="The form is missing its security token, or the token is invalid.",
)
TOO_MANY_FIELDS = Message(
    "form.too-many-fields",
    vi="Biểu mẫu có quá nhiều trường.",
    en="The form has too many fields.",
)
