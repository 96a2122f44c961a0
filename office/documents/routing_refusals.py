"""What the routing of an incoming document inside its unit refuses (presenting it to a leader,
assigning it to departments, sharing a department's part out, "để biết" readers): each message
with its Vietnamese and English side by side (see :mod:`config.refusals`)."""

from __future__ import annotations

from config.refusals import Message

TO_PRESENT = Message("document.may.present", vi="trình văn bản này", en="present this document")
TO_ADD_READERS = Message(
    "document.may.add-readers",
    vi="gửi văn bản này để biết",
    en="give this document to readers for information",
)
LEADER = Message("field.leader", vi="lãnh đạo được trình", en="leader to present to")

NOT_PRESENTED = Message(
    "routing.not-presented",
    vi="Văn bản chưa được trình lãnh đạo: văn thư trình văn bản trước khi cho ý kiến chỉ đạo.",
    en="The document has not been presented to a leader: the clerk presents it before it is "
    "directed.",
)
PRESENTED_TO_ANOTHER = Message(
    "routing.presented-to-another",
    vi="Văn bản được trình đồng chí {name}: chỉ người được trình cho ý kiến chỉ đạo.",
    en="The document was presented to {name}: only the leader it was presented to directs it.",
)
NOT_TO_PRESENT = Message(
    "routing.not-to-present",
    vi="Chỉ trình được văn bản đã vào sổ và chưa xử lý xong.",
    en="Only a registered document whose handling is not finished can be presented.",
)
BAD_LEADER = Message(
    "routing.bad-leader",
    vi="Người được trình phải là lãnh đạo của đơn vị, được xem văn bản ở độ mật này.",
    en="The document must be presented to a leader of the unit cleared for its secrecy level.",
)
BAD_DEPARTMENT = Message(
    "routing.bad-department",
    vi="Phòng, ban được giao không thuộc đơn vị.",
    en="The department assigned is not one of the unit's.",
)
DEPARTMENT_WITHOUT_HEAD = Message(
    "routing.department-without-head",
    vi="{name} chưa có trưởng phòng để phân công: chọn người xử lý, hoặc đề nghị quản trị "
    "chỉ định trưởng phòng.",
    en="{name} has no head to share out its work: choose a person, or ask the administrator "
    "to name its head.",
)
DEPARTMENT_HEAD_NOT_CLEARED = Message(
    "routing.department-head-not-cleared",
    vi="Trưởng phòng của {name} không được xem văn bản ở độ mật này.",
    en="The head of {name} may not see documents at this secrecy level.",
)
NOT_DEPARTMENT_HEAD = Message(
    "routing.not-department-head",
    vi="Chỉ trưởng phòng, ban được giao mới phân công trong phòng, ban.",
    en="Only the head of the department assigned shares its part out.",
)
NOT_A_MEMBER = Message(
    "routing.not-a-member",
    vi="{name} không thuộc phòng, ban này hoặc không được xem văn bản ở độ mật này.",
    en="{name} is not a member of this department, or may not see documents at this secrecy level.",
)
PART_CLOSED = Message(
    "routing.part-closed",
    vi="Phần việc của phòng, ban đã xong hoặc đã được giao lại.",
    en="The department's part is done, or has been assigned again.",
)
NO_READER = Message(
    "routing.no-reader",
    vi="Chưa chọn người để biết.",
    en="No reader has been chosen.",
)
BAD_READER = Message(
    "routing.bad-reader",
    vi="Người để biết phải là cán bộ của đơn vị, được xem văn bản ở độ mật này.",
    en="A reader must be a member of the unit cleared for the document's secrecy level.",
)
NOT_A_READER = Message(
    "routing.not-a-reader",
    vi="Bạn không có trong danh sách để biết của văn bản này.",
    en="You are not among this document's readers for information.",
)
