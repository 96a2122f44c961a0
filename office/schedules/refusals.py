"""What the schedules' services and pages refuse, and the names of the fields they name: each
message with its Vietnamese and English side by side (see :mod:`config.refusals`); the pages'
own messages are in :mod:`office.schedules.messages`."""

from __future__ import annotations

from config.refusals import Message

DAY = Message("field.day", vi="ngày", en="day")
WEEK = Message("field.week", vi="tuần", en="week")
CONTENT = Message("field.content", vi="nội dung", en="content")
CHAIR = Message("field.chair", vi="chủ trì", en="chair")
ATTENDEES = Message("field.attendees", vi="thành phần", en="attendees")
PLACE = Message("field.place", vi="địa điểm", en="place")
PREPARED_BY = Message("field.prepared-by", vi="đơn vị chuẩn bị", en="prepared by")
NOTES = Message("field.notes", vi="ghi chú", en="notes")
START_TIME = Message("field.start-time", vi="giờ bắt đầu", en="start time")
END_TIME = Message("field.end-time", vi="giờ kết thúc", en="end time")
#: The people a line names, as its refusals name them.
CHAIR_PERSON = Message("field.chair-person", vi="người chủ trì", en="chair")
ATTENDEE = Message("field.attendee", vi="người dự", en="attendee")

# A line of the week, as the form sends it (office.schedules.entries).
BAD_TIME = Message(
    "schedule.bad-time",
    vi="Chưa nhập hoặc nhập sai {label} (dạng giờ:phút, ví dụ 08:00).",
    en="The {label} is missing or wrong (hours:minutes, for example 08:00).",
)
NOT_OF_THE_UNIT = Message(
    "schedule.bad-person",
    vi="{label:cap} không phải cán bộ của đơn vị.",
    en="The {label} is not one of the unit's staff.",
)
PERSON_NOT_CLEARED = Message(
    "schedule.person-not-cleared",
    vi="{label:cap} {name} không được xem lịch có độ mật «{level}».",
    en="The {label} {name} may not see schedule lines of secrecy level «{level}».",
)
MISSING_DAY = Message("schedule.missing-day", vi="Chưa chọn ngày.", en="No day was chosen.")
OUTSIDE_WEEK = Message(
    "schedule.outside-week",
    vi="Ngày {day:%d/%m/%Y} không thuộc tuần này (từ {first:%d/%m/%Y} đến {last:%d/%m/%Y}).",
    en="{day:%d/%m/%Y} is not in this week ({first:%d/%m/%Y} to {last:%d/%m/%Y}).",
)
END_BEFORE_START = Message(
    "schedule.end-before-start",
    vi="Giờ kết thúc ({end:%H:%M}) phải sau giờ bắt đầu ({start:%H:%M}).",
    en="The end time ({end:%H:%M}) must be after the start time ({start:%H:%M}).",
)
ABOVE_CLEARANCE = Message(
    "schedule.above-clearance",
    vi="Bạn không được nhập lịch có độ mật cao hơn mức được xem.",
    en="You may not enter a schedule line with a secrecy level above the one you may see.",
)

# The week and its steps (office.schedules.weeks, office.schedules.rules).
STALE = Message(
    "schedule.stale",
    vi=(
        "Lịch tuần này vừa được người khác thay đổi trong lúc bạn đang sửa. Thay đổi của bạn "
        "chưa được lưu: vui lòng tải lại trang để xem lịch mới nhất rồi làm lại."
    ),
    en=(
        "Someone else changed this week's schedule while you were editing it. Your change has "
        "not been saved: please reload the page to see the latest schedule, then make it again."
    ),
)
NOT_FOUND = Message(
    "schedule.not-found",
    vi="Không tìm thấy nội dung lịch này hoặc bạn không có quyền xem.",
    en="This schedule line does not exist or you do not have permission to see it.",
)
SUBMITTED = Message(
    "schedule.submitted",
    vi=("Lịch tuần này đang chờ lãnh đạo duyệt nên chưa sửa được. Lãnh đạo có thể trả lại để sửa."),
    en=(
        "This week's schedule is waiting for a leader's approval, so it cannot be changed yet. "
        "A leader can return it for changes."
    ),
)
CANCELLED = Message(
    "schedule.cancelled",
    vi="Nội dung này đã bị hoãn/huỷ, không sửa được nữa.",
    en="This line has been postponed or cancelled and can no longer be changed.",
)
EMPTY_WEEK = Message(
    "schedule.empty-week",
    vi="Tuần này chưa có lịch công tác.",
    en="This week has no work schedule yet.",
)
NOTHING_TO_SUBMIT = Message(
    "schedule.nothing-to-submit",
    vi="Lịch tuần này chưa có nội dung nào để trình.",
    en="This week's schedule has nothing in it to submit yet.",
)
SUBMIT_ONLY_DRAFT = Message(
    "schedule.submit-only-draft",
    vi="Chỉ trình duyệt được lịch đang soạn.",
    en="Only a schedule being drafted can be submitted for approval.",
)
APPROVE_ONLY_SUBMITTED = Message(
    "schedule.approve-only-submitted",
    vi="Chỉ duyệt được lịch đã trình.",
    en="Only a submitted schedule can be approved.",
)
RETURN_ONLY_SUBMITTED = Message(
    "schedule.return-only-submitted",
    vi="Chỉ trả lại được lịch đã trình.",
    en="Only a submitted schedule can be returned.",
)
EDITORS_ONLY = Message(
    "schedule.editors-only",
    vi="Chỉ văn thư và lãnh đạo được soạn lịch công tác.",
    en="Only clerks and leaders may draft the work schedule.",
)
CLERKS_SUBMIT = Message(
    "schedule.clerks-submit",
    vi="Chỉ văn thư được trình lịch công tác lên lãnh đạo duyệt.",
    en="Only a clerk may submit the work schedule to the leaders for approval.",
)
LEADERS_APPROVE = Message(
    "schedule.leaders-approve",
    vi="Chỉ lãnh đạo được duyệt lịch công tác.",
    en="Only a leader may approve the work schedule.",
)
LEADERS_RETURN = Message(
    "schedule.leaders-return",
    vi="Chỉ lãnh đạo được trả lại lịch đã trình.",
    en="Only a leader may return a submitted schedule.",
)

# The pages (office.schedules.web).
MISSING_REVISION = Message(
    "schedule.missing-revision",
    vi="Biểu mẫu thiếu phiên bản. Vui lòng tải lại trang.",
    en="The form has no revision. Please reload the page.",
)
DOCUMENT_NOT_FOUND = Message(
    "schedule.document-not-found",
    vi="Không tìm thấy văn bản.",
    en="The document was not found.",
)

# A line that clashes with another (a warning the form shows before saving).
CLASH = Message(
    "schedule.clash",
    vi="{who} đã có lịch lúc {at:%H:%M}{what}",
    en="{who} already has an entry at {at:%H:%M}{what}",
)
SECRET_CONTENT = Message(
    "schedule.clash-secret", vi=" (nội dung mật)", en=" (confidential content)"
)
