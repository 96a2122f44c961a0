"""What the exchange says that a staff page may show: its refusals and the names of the edXML
statuses, each with its Vietnamese and English side by side (see :mod:`config.refusals`).

(:mod:`exchange.refusals` is something else: it records the refusals peers exchange.)
"""

from __future__ import annotations

from config.refusals import Message

#: The edXML statuses (QCVN 102:2016) by code. The code is what is stored and sent; a name is
#: only ever shown.
STATUS_NAMES = {
    "01": Message("edxml.status.01", vi="Đã nhận", en="Received"),
    "02": Message("edxml.status.02", vi="Trả lại", en="Returned"),
    "03": Message("edxml.status.03", vi="Đã vào sổ", en="Registered"),
    "04": Message("edxml.status.04", vi="Đã phân công", en="Assigned"),
    "05": Message("edxml.status.05", vi="Đang xử lý", en="In progress"),
    "06": Message("edxml.status.06", vi="Hoàn thành", en="Completed"),
    "13": Message("edxml.status.13", vi="Đề nghị thu hồi", en="Recall requested"),
    "15": Message("edxml.status.15", vi="Đồng ý thu hồi", en="Recall agreed"),
    "16": Message("edxml.status.16", vi="Từ chối", en="Refused"),
}

UNKNOWN_STATUS = Message(
    "exchange.status.unknown-code",
    vi="mã trạng thái {code!r} không có trong edXML",
    en="status code {code!r} is not in edXML",
)
NOTE_TOO_LONG = Message(
    "exchange.status.note-too-long",
    vi="ghi chú dài quá {limit} ký tự",
    en="the note is longer than {limit} characters",
)
NO_INBOUND_DISPATCH = Message(
    "exchange.status.no-inbound",
    vi="không có công văn đến {dispatch}",
    en="there is no incoming dispatch {dispatch}",
)
NOT_A_RECIPIENT_HERE = Message(
    "exchange.status.not-a-recipient",
    vi="đơn vị {unit} không nhận công văn {dispatch} ở nút này",
    en="unit {unit} did not receive dispatch {dispatch} at this node",
)
NOT_SENT_TO = Message(
    "exchange.status.not-sent-to",
    vi="công văn {dispatch} không gửi tới đơn vị {unit}",
    en="dispatch {dispatch} was not sent to unit {unit}",
)
NO_OUTBOUND_DISPATCH = Message(
    "exchange.status.no-outbound",
    vi="không có công văn đi {dispatch} của {unit}",
    en="there is no outgoing dispatch {dispatch} from {unit}",
)

#: Độ mật by level, as the refusals below name them (the documents' names for them).
SECRECY_NAMES = {
    0: Message("exchange.secrecy.0", vi="Không mật", en="not secret"),
    1: Message("exchange.secrecy.1", vi="Mật", en="Confidential"),
    2: Message("exchange.secrecy.2", vi="Tối mật", en="Secret"),
    3: Message("exchange.secrecy.3", vi="Tuyệt mật", en="Top secret"),
}
NOT_ON_NETWORK = Message(
    "exchange.secrecy.not-on-network",
    vi=(
        "Không được gửi qua mạng tài liệu độ {level} tới {units}: nút này chỉ được truyền qua "
        "mạng tài liệu đến độ {limit} (Luật Bảo vệ bí mật nhà nước 2018, Điều 5). Hãy gửi bản "
        "giấy theo quy định về tài liệu mật (Nghị định 26/2020/NĐ-CP): vào Sổ đăng ký bí mật nhà "
        "nước đi, cho vào bì đóng dấu độ mật, chuyển qua giao liên hoặc cơ yếu."
    ),
    en=(
        "A {level} document may not be sent over the network to {units}: this node sends "
        "nothing above {limit} over the network (2018 Law on Protection of State Secrets, "
        "Art. 5). Send it on paper by the rules for secret documents (Decree 26/2020/NĐ-CP): "
        "register it as outgoing, seal it in an envelope marked with its level, and send it "
        "by courier or the cipher service."
    ),
)
REFUSED_ON_ARRIVAL = Message(
    "exchange.secrecy.refused-on-arrival",
    vi=(
        "nút nhận không nhận qua mạng tài liệu độ {level}: chỉ nhận đến độ {limit} "
        "(Luật Bảo vệ bí mật nhà nước 2018, Điều 5); hãy gửi bản giấy"
    ),
    en=(
        "the receiving node takes no {level} document over the network, only up to {limit} "
        "(2018 Law on Protection of State Secrets, Art. 5); send it on paper"
    ),
)
