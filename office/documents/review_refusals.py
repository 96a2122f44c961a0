"""What the review chain of an outgoing draft refuses (see :mod:`office.documents.review`):
each message with its Vietnamese and English side by side."""

from __future__ import annotations

from config.refusals import Message

TO_SUBMIT = Message("document.may.submit", vi="trình dự thảo này", en="submit this draft")
TO_REVIEW = Message("document.may.review", vi="cho ý kiến về dự thảo này", en="review this draft")
TO_SIGN = Message("document.may.sign", vi="ký duyệt dự thảo này", en="approve and sign this draft")
TO_DELEGATE = Message("document.may.delegate", vi="giao ký thay", en="delegate signing")

NOT_A_DRAFT = Message(
    "review.not-a-draft",
    vi="Dự thảo đã được trình, không còn ở trạng thái soạn thảo.",
    en="The draft has been submitted: it is no longer being drafted.",
)
FROZEN = Message(
    "review.frozen",
    vi=(
        "Dự thảo đang được trình nên không thể sửa hoặc xoá. "
        "Người đang xử lý có thể trả lại để bạn sửa."
    ),
    en=(
        "The draft has been submitted, so it cannot be edited or deleted. "
        "Whoever holds it can return it to you to edit."
    ),
)
NOT_YOURS_NOW = Message(
    "review.not-holding",
    vi="Dự thảo không ở chỗ bạn: nó đang chờ người khác hoặc đã được xử lý.",
    en="The draft is not with you: it waits for someone else or has been dealt with.",
)
UNKNOWN_PERSON = Message(
    "review.unknown-person",
    vi="Người được chọn không có trong danh sách người cho ý kiến hoặc người ký của đơn vị.",
    en="The person chosen is not among the unit's reviewers or signers.",
)
NO_ONE_CHOSEN = Message(
    "review.no-one-chosen",
    vi="Chưa chọn người trình.",
    en="Nobody was chosen to submit the draft to.",
)
COMMENT_REQUIRED = Message(
    "review.comment-required",
    vi="Khi trả lại dự thảo cần ghi ý kiến.",
    en="A returned draft needs a comment.",
)
NOT_APPROVED = Message(
    "review.not-approved",
    vi="Dự thảo chưa được người có thẩm quyền ký duyệt nên chưa thể phát hành.",
    en="The draft has not been approved and signed by its signer, so it cannot be issued yet.",
)
BAD_AUTHORITY = Message(
    "review.bad-authority",
    vi="Thẩm quyền ký không hợp lệ.",
    en="The signing authority is not valid.",
)
ON_BEHALF_REQUIRED = Message(
    "review.on-behalf-required",
    vi="Ký thay mặt, ký thay, thừa lệnh hay thừa uỷ quyền thì phải ghi ký thay cho ai.",
    en="Signing on behalf of someone needs whom it is on behalf of.",
)
DELEGATE_SIGNS_KT = Message(
    "review.delegate-signs-kt",
    vi="Bạn ký thay {name} theo giao ký thay, nên phải ký với thẩm quyền “{form}”.",
    en="You sign for {name} by delegation, so you must sign as “{form}”.",
)
BAD_DELEGATION = Message(
    "review.bad-delegation",
    vi="Chỉ giao ký thay cho một lãnh đạo khác có thẩm quyền ký của đơn vị.",
    en="Signing can only be delegated to another leader of the unit who may sign.",
)
BAD_PERIOD = Message(
    "review.bad-period",
    vi="Thời gian giao ký thay không hợp lệ: ngày kết thúc trước ngày bắt đầu hoặc đã qua.",
    en="The delegation's period is not valid: it ends before it starts, or is over.",
)
UNKNOWN_VERSION = Message(
    "review.unknown-version",
    vi="Không có phiên bản này của dự thảo.",
    en="The draft has no such version.",
)

STARTS_ON = Message("field.starts-on", vi="ngày bắt đầu", en="start date")
ENDS_ON = Message("field.ends-on", vi="ngày kết thúc", en="end date")
PINS_DIFFER = Message(
    "review.pins-differ",
    vi="Hai lần nhập mã PIN mới không giống nhau.",
    en="The two new PINs typed differ.",
)
