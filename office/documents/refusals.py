"""What the documents' services refuse, and the names of the fields they name: each message
with its Vietnamese and English side by side (see :mod:`config.refusals`); the pages' own
messages are in :mod:`office.documents.messages`."""

from __future__ import annotations

from config.refusals import Message

MISSING_FIELD = Message("field.missing", vi="Chưa nhập {label}.", en="{label:cap} is missing.")
TOO_LONG = Message(
    "field.too-long",
    vi="{label:cap} dài quá {limit} ký tự.",
    en="{label:cap} is longer than {limit} characters.",
)
NOT_VALID = Message(
    "field.not-valid", vi="{label:cap} không hợp lệ.", en="{label:cap} is not valid."
)
NOT_A_DATE = Message(
    "field.not-a-date",
    vi="{label:cap} không đúng dạng ngày/tháng/năm.",
    en="{label:cap} is not a date (day/month/year).",
)
IN_THE_FUTURE = Message(
    "field.future", vi="{label:cap} ở tương lai.", en="{label:cap} is in the future."
)
BAD_DOC_TYPE = Message(
    "document.bad-type", vi="Loại văn bản không hợp lệ.", en="The document type is not valid."
)
ABOVE_CLEARANCE = Message(
    "document.above-clearance",
    vi="Độ mật của văn bản cao hơn mức bạn được phép xử lý.",
    en="The document's secrecy is above the level you may handle.",
)
PAGES_NOT_A_NUMBER = Message(
    "document.pages-not-a-number",
    vi="Số tờ phải là số.",
    en="The number of pages must be a number.",
)

SECRECY = Message("field.secrecy", vi="độ mật", en="secrecy")
URGENCY = Message("field.urgency", vi="độ khẩn", en="urgency")
PAGES = Message("field.pages", vi="số tờ", en="number of pages")
SUMMARY = Message("field.summary", vi="trích yếu", en="summary")
NUMBER_SYMBOL = Message("field.number-symbol", vi="số, ký hiệu", en="number and symbol")
SENDER = Message("field.sender", vi="nơi gửi", en="sender")
SIGNER = Message("field.signer", vi="người ký", en="signer")
ISSUED_ON = Message("field.issued-on", vi="ngày văn bản", en="date of the document")
NOTE = Message("field.note", vi="ghi chú", en="note")
DATE_FROM = Message("field.date-from", vi="từ ngày", en="from date")
DATE_TO = Message("field.date-to", vi="đến ngày", en="to date")
RETURN_REASON = Message("field.return-reason", vi="lý do trả lại", en="reason for returning")
DIRECTION = Message("field.direction", vi="ý kiến chỉ đạo", en="direction")
PROGRESS = Message("field.progress", vi="nội dung tiến độ", en="progress")
OUTCOME = Message("field.outcome", vi="kết quả xử lý", en="outcome")
RECALL_REASON = Message("field.recall-reason", vi="lý do thu hồi", en="reason for the recall")
REFUSAL_REASON = Message("field.refusal-reason", vi="lý do từ chối", en="reason for refusing")
