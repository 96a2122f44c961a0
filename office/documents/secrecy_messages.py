"""The document pages' messages about secret documents and the network: issuing on paper, the
secret register entries, the network's limit."""

from __future__ import annotations

VI: dict[str, str] = {
    "state.paper": "Đã phát hành bản giấy",
    "event.issued-on-paper": "Cấp số, phát hành bản giấy",
    "outgoing.paper": "Vào sổ văn bản mật đi",
    "outgoing.paper.intro": (
        "Văn bản mật (Mật, Tối mật, Tuyệt mật) soạn và ký trên giấy: chỉ vào sổ các thông tin "
        "(số, ngày, loại và trích yếu, người ký, nơi nhận, độ mật), không cần tệp. Văn bản nhận "
        "số của sổ mật và không được gửi qua mạng; bản giấy gửi theo quy định về tài liệu mật "
        "(Luật Bảo vệ bí mật nhà nước 2018; Nghị định 26/2020/NĐ-CP)."
    ),
    "outgoing.paper.files": "Tệp (không bắt buộc; không bao giờ được gửi ra khỏi hệ thống này)",
    "outgoing.paper.submit": "Cấp số, vào sổ",
    "outgoing.paper.link": "Vào sổ văn bản mật đi (bản giấy)",
    "outgoing.network_barred": (
        "Văn bản {level} không được gửi qua mạng tới: {units}. Nút này chỉ truyền qua mạng "
        "văn bản đến độ {limit} (Luật Bảo vệ bí mật nhà nước 2018, Điều 5)."
    ),
    "action.issue_paper": "Cấp số, phát hành bản giấy",
    "action.issue_paper.hint": (
        "Văn bản được cấp số trong sổ văn bản mật đi, ghi ngày phát hành và nơi nhận; không "
        "được ký số của cơ quan và không gửi qua mạng. Gửi bản giấy theo quy định về tài liệu "
        "mật (Nghị định 26/2020/NĐ-CP): cho vào bì đóng dấu độ mật, chuyển qua giao liên hoặc "
        "cơ yếu, ghi vào sổ chuyển giao."
    ),
    "incoming.new.secret_hint": (
        "Văn bản mật (Mật, Tối mật, Tuyệt mật): chỉ vào sổ các thông tin, không cần bản quét. "
        "Tệp đính kèm (nếu có) không bao giờ được gửi ra khỏi hệ thống này."
    ),
    "incoming.new.file_optional": "Bản quét (PDF; không bắt buộc với văn bản mật)",
}

EN: dict[str, str] = {
    "state.paper": "Issued on paper",
    "event.issued-on-paper": "Numbered, issued on paper",
    "outgoing.paper": "Register a secret outgoing document",
    "outgoing.paper.intro": (
        "A secret document (Confidential, Secret, Top secret) drafted and signed on paper: "
        "only its register entry is kept (number, date, type and summary, signer, recipients, "
        "secrecy), no file is needed. It takes a number of the secret register and is never "
        "sent over the network; its paper goes by the rules for secret documents (2018 Law on "
        "Protection of State Secrets; Decree 26/2020/NĐ-CP)."
    ),
    "outgoing.paper.files": "Files (optional; never sent out of this system)",
    "outgoing.paper.submit": "Number and register",
    "outgoing.paper.link": "Register a secret outgoing document (paper)",
    "outgoing.network_barred": (
        "A {level} document may not be sent over the network to: {units}. This node sends "
        "nothing above {limit} over the network (2018 Law on Protection of State Secrets, "
        "Art. 5)."
    ),
    "action.issue_paper": "Number and issue on paper",
    "action.issue_paper.hint": (
        "The document takes a number of the secret outgoing register, with the date of issue "
        "and its recipients; it is not signed with the unit's key and not sent over the "
        "network. Send the paper by the rules for secret documents (Decree 26/2020/NĐ-CP): in "
        "an envelope marked with its level, by courier or the cipher service, entered in the "
        "hand-over book."
    ),
    "incoming.new.secret_hint": (
        "A secret document (Confidential, Secret, Top secret): only its register entry is kept, "
        "no scan is needed. A file attached (if any) is never sent out of this system."
    ),
    "incoming.new.file_optional": "Scan (PDF; optional for a secret document)",
}

MESSAGES: dict[str, dict[str, str]] = {"vi": VI, "en": EN}
