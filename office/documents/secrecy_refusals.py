"""What the documents' services say about secret documents and the network, each message with
its Vietnamese and English side by side (see :mod:`config.refusals`)."""

from __future__ import annotations

from config.refusals import Message

NOT_ON_NETWORK = Message(
    "document.secret.not-on-network",
    vi=(
        "Văn bản {level} không được gửi qua mạng tới {units}: nút này chỉ truyền qua mạng văn "
        "bản đến độ {limit} (Luật Bảo vệ bí mật nhà nước 2018, Điều 5). Hãy dùng “Cấp số, phát "
        "hành bản giấy”, rồi gửi bản giấy theo quy định về tài liệu mật (Nghị định "
        "26/2020/NĐ-CP): vào sổ văn bản mật đi, cho vào bì đóng dấu độ mật, chuyển qua giao "
        "liên hoặc cơ yếu."
    ),
    en=(
        "A {level} document may not be sent over the network to {units}: this node sends "
        "nothing above {limit} over the network (2018 Law on Protection of State Secrets, "
        "Art. 5). Use “Number and issue on paper”, then send the paper by the rules for secret "
        "documents (Decree 26/2020/NĐ-CP): register it as outgoing, seal it in an envelope "
        "marked with its level, and send it by courier or the cipher service."
    ),
)
PAPER_IS_FOR_SECRETS = Message(
    "document.secret.paper-is-for-secrets",
    vi=(
        "Chỉ văn bản mật (Mật, Tối mật, Tuyệt mật) được vào sổ từ bản giấy mà không phát hành "
        "qua mạng; văn bản không mật được soạn dự thảo, trình ký rồi phát hành."
    ),
    en=(
        "Only a secret document (Confidential, Secret, Top secret) is registered from paper "
        "without being issued over the network; a document that is not secret is drafted, "
        "signed and then issued."
    ),
)
NOT_TO_ISSUE_ON_PAPER = Message(
    "document.secret.not-to-issue-on-paper",
    vi="Văn bản không ở trạng thái chờ phát hành, hoặc đã được phát hành.",
    en="The document is not waiting to be issued, or was issued already.",
)
