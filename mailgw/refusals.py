"""What the mail gateway refuses, each message with its Vietnamese and English side by side
(see :mod:`config.refusals`): the web mailbox shows it in the reader's language. An SMTP client
is given the gateway's own reply (``MailRefused.reply``), and the mail command line the
Vietnamese (``error.message``)."""

from __future__ import annotations

from config.refusals import Message

# The gateway's checks (mailgw.gateway).
NOT_YOUR_ADDRESS = Message(
    "mail.not-your-address",
    vi="Địa chỉ gửi {address} không phải của {username}.",
    en="The sender address {address} is not {username}'s.",
)
RATE_LIMITED = Message(
    "mail.rate-limited",
    vi="Gửi quá {limit} thư một phút; hãy thử lại sau.",
    en="More than {limit} messages a minute; please try again later.",
)
RELAY_DENIED = Message(
    "mail.relay-denied",
    vi="{address} không thuộc đơn vị nào trong mạng; không chuyển tiếp ra ngoài.",
    en="{address} is not at any unit of the network; mail is not relayed outside it.",
)
UNKNOWN_RECIPIENT = Message(
    "mail.unknown-user", vi="Không có người dùng {address}.", en="There is no user {address}."
)
TOO_LARGE = Message(
    "mail.too-large",
    vi="Thư {size} byte, quá giới hạn {limit} byte.",
    en="The message is {size} bytes, over the limit of {limit} bytes.",
)
NO_RECIPIENT = Message(
    "mail.no-recipient", vi="Thư chưa có người nhận.", en="The message has no recipients."
)
TOO_MANY_RECIPIENTS = Message(
    "mail.too-many-recipients",
    vi="Tối đa {limit} người nhận một thư.",
    en="At most {limit} recipients a message.",
)
SECRET_ATTACHED = Message(
    "mail.secret-attached",
    vi=(
        "Thư gửi {units} có tệp của văn bản mật: không được gửi qua mạng (Luật Bảo vệ bí mật "
        "nhà nước 2018, Điều 5). Hãy gửi bản giấy theo quy định về tài liệu mật."
    ),
    en=(
        "The message to {units} carries a file of a secret document: it may not be sent over "
        "the network (2018 Law on Protection of State Secrets, Art. 5). Send it on paper by "
        "the rules for secret documents."
    ),
)

# Writing a message in the web mailbox (mailgw.composing).
TO = Message("mail.field.to", vi="Người nhận", en="To")
CC = Message("mail.field.cc", vi="Đồng gửi (Cc)", en="Cc")
BAD_ADDRESS = Message(
    "mail.bad-address",
    vi="Địa chỉ “{shown}” ở ô {label} không hợp lệ.",
    en="The address “{shown}” in the {label} field is not valid.",
)
BAD_MESSAGE = Message(
    "mail.bad-message",
    vi="Không tạo được thư: {error}",
    en="The message could not be made: {error}",
)

# The mailbox (mailgw.mailbox).
MAIL_NOT_FOUND = Message(
    "mail.not-found", vi="Không tìm thấy thư.", en="The message was not found."
)

# Aliases (mailgw.aliases): the command line's, in both languages at once as before.
ALIAS_BAD_ADDRESS = Message(
    "alias.bad-address",
    vi=(
        "địa chỉ thư {address!r} không hợp lệ: cần dạng ten@ten-mien, phần trước @ gồm "
        "a-z, 0-9, '.', '_', '-' (bad address: want name@domain)"
    ),
    en=(
        "bad address {address!r}: want name@domain, the part before the @ made of "
        "a-z, 0-9, '.', '_', '-'"
    ),
)
ALIAS_FOREIGN_DOMAIN = Message(
    "alias.foreign-domain",
    vi=(
        "{address} không thuộc tên miền thư của đơn vị nào do nút này quản lý ({known}) "
        "(not in a mail domain this node hosts)"
    ),
    en="{address} is not in a mail domain this node hosts ({known})",
)
ALIAS_UNKNOWN_USER = Message(
    "alias.unknown-user",
    vi="không có người dùng {username} trên nút này (unknown user {username})",
    en="unknown user {username} on this node",
)
ALIAS_OWN_ADDRESS = Message(
    "alias.own-address",
    vi="{address} là địa chỉ riêng của {owner} (already the own address of {owner})",
    en="{address} is already the own address of {owner}",
)
ALIAS_TAKEN = Message(
    "alias.taken",
    vi="{address} đã là bí danh của {owner} (already an alias of {owner})",
    en="{address} is already an alias of {owner}",
)
ALIAS_JUST_TAKEN = Message(
    "alias.just-taken",
    vi="{address} vừa được gán cho người khác (already taken)",
    en="{address} was just given to someone else (already taken)",
)
ALIAS_UNKNOWN = Message(
    "alias.unknown",
    vi="không có bí danh {address} (no such alias)",
    en="no such alias {address}",
)

# The web mailbox's reader (mailgw.reading).
UNKNOWN_ATTACHMENT = Message(
    "mail.unknown-attachment",
    vi="Không tìm thấy tệp đính kèm.",
    en="The attachment was not found.",
)
