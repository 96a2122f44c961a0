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
RECALL_REFUSAL_REASON = Message(
    "field.recall-refusal-reason",
    vi="lý do từ chối thu hồi",
    en="reason for refusing the recall",
)
SECRECY_LEVEL_NAMES = {
    0: Message("field.secrecy.0", vi="Không mật", en="None"),
    1: Message("field.secrecy.1", vi="Mật", en="Confidential"),
    2: Message("field.secrecy.2", vi="Tối mật", en="Secret"),
    3: Message("field.secrecy.3", vi="Tuyệt mật", en="Top secret"),
}

# Any document: finding it, changing it, the forms that change it.
NOT_FOUND = Message(
    "document.not-found",
    vi="Không tìm thấy văn bản, hoặc bạn không có quyền xem văn bản này.",
    en="The document was not found, or you do not have permission to view it.",
)
STALE = Message(
    "document.stale",
    vi=(
        "Văn bản vừa được người khác thay đổi sau khi bạn mở trang. "
        "Không có thay đổi nào được lưu: vui lòng xem lại rồi thực hiện lại."
    ),
    en=(
        "Someone else changed the document after you opened the page. "
        "Nothing has been saved: please look at it again, then redo what you did."
    ),
)
CHANGED_MEANWHILE = Message(
    "document.changed",
    vi="Văn bản vừa được người khác thay đổi.",
    en="Someone else has just changed the document.",
)
NO_FORM_VERSION = Message(
    "document.no-form-version",
    vi="Biểu mẫu thiếu phiên bản. Vui lòng tải lại trang.",
    en="The form is missing the document's version. Please reload the page.",
)
NOT_ALLOWED = Message(
    "document.not-allowed", vi="Bạn không có quyền {action}.", en="You are not allowed to {action}."
)
#: What :data:`NOT_ALLOWED` names.
TO_REGISTER_INCOMING = Message(
    "document.may.register-incoming",
    vi="vào sổ văn bản đến",
    en="register incoming documents",
)
TO_RETURN = Message("document.may.return", vi="trả lại văn bản", en="return documents")
TO_DIRECT = Message("document.may.direct", vi="cho ý kiến chỉ đạo", en="give directions")
TO_DRAFT = Message("document.may.draft", vi="soạn văn bản đi", en="draft outgoing documents")
TO_ISSUE = Message("document.may.issue", vi="phát hành văn bản", en="issue documents")
TO_RECALL = Message("document.may.recall", vi="thu hồi văn bản", en="recall documents")

# Files
NOT_A_PDF = Message(
    "document.file.not-a-pdf",
    vi="Tệp “{name}” không phải là tệp PDF.",
    en="The file “{name}” is not a PDF file.",
)
NOT_A_SIGNABLE_UPLOAD = Message(
    "document.file.not-signable-upload",
    vi=(
        "Tệp “{name}” không phải là tệp PDF ký được (có thể tệp bị hỏng hoặc có mật khẩu). "
        "Vui lòng xuất văn bản ra PDF rồi tải lên lại."
    ),
    en=(
        "The file “{name}” is not a PDF that can be signed (it may be damaged or protected by "
        "a password). Please export the document to PDF and upload it again."
    ),
)
NO_SCAN = Message(
    "document.file.no-scan",
    vi="Chưa đính kèm bản quét văn bản (PDF).",
    en="The scan of the document (PDF) is not attached.",
)
NO_MAIN_FILE = Message(
    "document.file.no-main",
    vi="Chưa đính kèm tệp văn bản (PDF).",
    en="The document's file (PDF) is not attached.",
)
ONE_MAIN_FILE = Message(
    "document.file.one-main",
    vi="Chỉ đính kèm một tệp văn bản (PDF).",
    en="Attach only one file of the document (PDF).",
)
FILE_KIND_REFUSED = Message(
    "document.file.kind-refused",
    vi="Tệp “{name}” không thuộc loại được nhận ({kinds}).",
    en="The file “{name}” is not of a kind accepted ({kinds}).",
)
FILE_NAME_MISLEADS = Message(
    "document.file.name-misleads",
    vi="Tệp “{name}” có nội dung là {kind}, không đúng với phần đuôi tên tệp.",
    en="The file “{name}” holds {kind}, not what its name's extension says.",
)
BAD_ATTACHMENT_TO_REMOVE = Message(
    "document.file.bad-removal",
    vi="Tệp đính kèm cần bỏ không hợp lệ.",
    en="The attachment to remove is not valid.",
)
FILE_TOO_MANY_ENTRIES = Message(
    "document.file.too-many-entries",
    vi="Tệp “{name}” chứa quá nhiều thành phần để là một văn bản.",
    en="The file “{name}” holds too many entries to be a document.",
)

# Incoming documents
ALREADY_REGISTERED = Message(
    "document.incoming.already-registered",
    vi="Văn bản này đã được vào sổ hoặc trả lại.",
    en="This document has already been registered or returned.",
)
POSSIBLE_DUPLICATE = Message(
    "document.incoming.duplicate",
    vi=(
        "Có thể trùng: văn bản {symbol} của {sender} đã vào sổ số đến {number}/{year}. "
        "Nếu vẫn muốn vào sổ, đánh dấu “Vẫn vào sổ” rồi gửi lại."
    ),
    en=(
        "Possible duplicate: document {symbol} from {sender} was registered as incoming number "
        "{number}/{year}. To register it anyway, tick “Register anyway” and submit again."
    ),
)
SECRECY_LOWERED = Message(
    "document.incoming.secrecy-lowered",
    vi=(
        "Văn bản đến ở độ mật “{level}”: không được vào sổ ở độ mật thấp hơn. "
        "Chỉ cơ quan ban hành mới được giảm độ mật hoặc giải mật."
    ),
    en=(
        "The incoming document is at secrecy level “{level}”: it may not be registered at a "
        "lower level. Only the issuing body may lower its secrecy level or declassify it."
    ),
)
NO_SENDER = Message(
    "document.incoming.no-sender",
    vi="Chưa nhập nơi gửi (tác giả) của văn bản.",
    en="The sender (author) of the document is missing.",
)
ALREADY_ASSIGNED = Message(
    "document.incoming.already-assigned",
    vi="Văn bản đã được phân công xử lý, không trả lại được.",
    en="The document has already been assigned for handling and can no longer be returned.",
)
NOT_TO_DIRECT = Message(
    "document.incoming.not-to-direct",
    vi="Văn bản chưa vào sổ hoặc đã xử lý xong.",
    en="The document has not been registered yet, or its handling is finished.",
)
BAD_HANDLER = Message(
    "document.incoming.bad-handler",
    vi="Người được giao không hợp lệ.",
    en="The person assigned is not valid.",
)
HANDLER_NOT_OF_UNIT = Message(
    "document.incoming.handler-not-of-unit",
    vi="Người được giao không thuộc đơn vị.",
    en="The person assigned is not a member of the unit.",
)
HANDLER_NOT_CLEARED = Message(
    "document.incoming.handler-not-cleared",
    vi="{name} không được xem văn bản ở độ mật này.",
    en="{name} may not see documents at this secrecy level.",
)
NO_LEAD = Message(
    "document.incoming.no-lead",
    vi="Chưa chọn người chủ trì.",
    en="No lead handler has been chosen.",
)
LEAD_ALSO_CO = Message(
    "document.incoming.lead-also-co",
    vi="Người chủ trì không đồng thời là người phối hợp.",
    en="The lead handler cannot also be a co-handler.",
)
CO_TWICE = Message(
    "document.incoming.co-twice",
    vi="Người phối hợp bị chọn trùng.",
    en="A co-handler has been chosen twice.",
)
BAD_DEADLINE = Message(
    "document.incoming.bad-deadline",
    vi="Thời hạn phải từ 1 đến 365 ngày làm việc.",
    en="The deadline must be between 1 and 365 working days.",
)
NOT_ASSIGNED = Message(
    "document.incoming.not-assigned",
    vi="Bạn không được giao xử lý văn bản này.",
    en="You have not been assigned to handle this document.",
)

# Outgoing documents
UNKNOWN_RECIPIENT = Message(
    "document.outgoing.unknown-recipient",
    vi="Nơi nhận không có trong danh bạ hoặc chưa có khoá.",
    en="A recipient is not in the directory or has no keys yet.",
)
NO_RECIPIENT = Message(
    "document.outgoing.no-recipient", vi="Chưa chọn nơi nhận.", en="No recipient has been chosen."
)
NO_DIRECTORY = Message(
    "document.outgoing.no-directory",
    vi="Máy chủ này không có danh bạ đơn vị.",
    en="This server has no directory of units.",
)
NUMBERED = Message(
    "document.outgoing.numbered",
    vi=(
        "Văn bản đã được cấp số nên không thể sửa hoặc xoá: số của nó đã vào sổ văn bản đi. "
        "Nếu cần thay đổi, hãy thu hồi văn bản rồi soạn văn bản mới."
    ),
    en=(
        "The document has been numbered, so it can no longer be edited or deleted: its number "
        "is in the outgoing register. To change it, recall the document and draft a new one."
    ),
)
ALREADY_ISSUED = Message(
    "document.outgoing.already-issued",
    vi="Văn bản này đã được phát hành.",
    en="This document has already been issued.",
)
NOT_WAITING_TO_SEND = Message(
    "document.outgoing.not-waiting",
    vi="Văn bản không ở trạng thái chờ gửi.",
    en="The document is not waiting to be sent.",
)
BEING_SENT = Message(
    "document.outgoing.being-sent",
    vi="Văn bản đang được gửi. Vui lòng đợi vài phút rồi tải lại trang.",
    en="The document is being sent. Please wait a few minutes, then reload the page.",
)
NO_EXCHANGE = Message(
    "document.outgoing.no-exchange",
    vi="Máy chủ này không nối mạng trao đổi văn bản.",
    en="This server is not connected to the document exchange network.",
)
SIGNATURE_NOT_VERIFIED = Message(
    "document.outgoing.signature-not-verified",
    vi="Chữ ký số vừa tạo không kiểm tra được ({problem}).",
    en="The digital signature just made could not be verified ({problem}).",
)
KEY_MISMATCH = Message(
    "document.signing.key-mismatch",
    vi="Khoá ký không khớp với chứng thư ký của đơn vị: hãy kiểm tra lại khoá sau khi cấp lại",
    en=(
        "The signing key does not match the unit's signing certificate: check the key after "
        "it was issued again"
    ),
)
NOT_SIGNABLE = Message(
    "document.signing.not-signable",
    vi="Tệp {name} không phải là PDF ký được: {why}",
    en="The file {name} is not a PDF that can be signed: {why}",
)
#: Why :data:`NOT_SIGNABLE`.
NO_PDF_HEADER = Message(
    "document.signing.no-header", vi="thiếu phần đầu %PDF-", en="it lacks the %PDF- header"
)
PDF_ENCRYPTED = Message(
    "document.signing.encrypted",
    vi="tệp đã được mã hoá, hãy gỡ mật khẩu trước khi ký",
    en="the file is encrypted; remove its password before signing",
)
PDF_WITHOUT_PAGES = Message(
    "document.signing.no-pages", vi="tệp không có trang nào", en="the file has no pages"
)
PDF_DAMAGED = Message(
    "document.signing.damaged",
    vi="tệp bị hỏng hoặc sai cấu trúc",
    en="the file is damaged or its structure is wrong",
)

# Numbering
UNIT_NOT_HOSTED = Message(
    "document.numbering.unit-not-hosted",
    vi="Đơn vị {unit} không thuộc máy chủ này.",
    en="Unit {unit} is not hosted on this server.",
)
BAD_NUMBERING_STYLE = Message(
    "document.numbering.bad-style",
    vi="Kiểu số ký hiệu {style!r}: dùng {party} hoặc {state}.",
    en="Numbering style {style!r}: use {party} or {state}.",
)
BAD_ISSUER = Message(
    "document.numbering.bad-issuer",
    vi=("Chữ viết tắt cơ quan ban hành {issuer!r}: chỉ gồm chữ, số, '.' và '-', như TU hoặc UBND."),
    en=(
        "Abbreviation of the issuing body {issuer!r}: letters, digits, '.' and '-' only, "
        "such as TU or UBND."
    ),
)
TERM_STARTS = Message(
    "field.term-starts", vi="ngày bắt đầu nhiệm kỳ", en="first day of the committee's term"
)
CONGRESS_OPENS = Message(
    "field.congress-opens", vi="ngày khai mạc đại hội", en="opening day of the congress"
)
CONGRESS_CLOSES = Message(
    "field.congress-closes", vi="ngày bế mạc đại hội", en="closing day of the congress"
)
CONGRESS_CLOSES_BEFORE_OPENING = Message(
    "document.numbering.congress-closes-first",
    vi="Ngày bế mạc đại hội ({closes}) trước ngày khai mạc ({opens}).",
    en="The congress would close ({closes}) before it opens ({opens}).",
)
CONGRESSES_OVERLAP = Message(
    "document.numbering.congresses-overlap",
    vi="Trùng thời gian với đại hội đã khai báo từ {opens} đến {closes}.",
    en="These days overlap the congress already set from {opens} to {closes}.",
)

# Recall
ONLY_SENT_RECALLED = Message(
    "document.recall.only-sent",
    vi="Chỉ thu hồi được văn bản đã phát hành.",
    en="Only an issued document can be recalled.",
)
RECALL_ALREADY_REQUESTED = Message(
    "document.recall.already-requested",
    vi="Văn bản này đã được đề nghị thu hồi ở mọi nơi nhận.",
    en="A recall of this document has already been requested from every recipient.",
)
NO_RECALL_RECIPIENT = Message(
    "document.recall.no-recipient",
    vi="Chưa chọn nơi nhận cần thu hồi văn bản.",
    en="No recipient has been chosen to recall the document from.",
)
NOT_RECALLABLE_RECIPIENT = Message(
    "document.recall.bad-recipient",
    vi=(
        "Không đề nghị thu hồi được tại {unit}: văn bản không gửi tới đơn vị này, hoặc đã đề "
        "nghị thu hồi tại đó rồi."
    ),
    en=(
        "The recall cannot be requested from {unit}: the document was not sent there, or its "
        "recall has already been requested there."
    ),
)
REPLACEMENT_NOT_OURS = Message(
    "document.recall.bad-replacement",
    vi=(
        "Văn bản thay thế phải là một văn bản đi đã phát hành của đơn vị (khác văn bản bị thu "
        "hồi), có độ mật không cao hơn văn bản bị thu hồi."
    ),
    en=(
        "The replacement must be an outgoing document the unit has issued (not the recalled "
        "one), at a secrecy level no higher than the recalled document's."
    ),
)
REPLACEMENT_TWICE = Message(
    "document.recall.replacement-twice",
    vi="Chọn văn bản thay thế trong danh sách hoặc nhập số, ký hiệu của nó, không chọn cả hai.",
    en="Choose the replacement from the list or type its number and symbol, not both.",
)
NO_RECALL_PENDING = Message(
    "document.recall.none-pending",
    vi="Không có đề nghị thu hồi nào đang chờ trả lời.",
    en="No recall request is waiting for an answer.",
)
RECALLED = Message(
    "document.recalled",
    vi=(
        "Văn bản đã được thu hồi theo đề nghị của nơi gửi nên không vào sổ, không xử lý tiếp "
        "được nữa (Nghị định 30/2020, Điều 18)."
    ),
    en=(
        "The document was recalled at its sender's request, so it can no longer be registered "
        "or handled (Decree 30/2020, Art. 18)."
    ),
)
