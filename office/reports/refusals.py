"""What the reports' services and pages refuse: each message with its Vietnamese and English
side by side (see :mod:`config.refusals`); the pages' own messages are in
:mod:`office.reports.messages`. The command line and a refused report's stored reason keep the
Vietnamese (``error.message``)."""

from __future__ import annotations

from config.refusals import Message

# The periodic form's fields (the same words as the form's labels).
STAFF_TOTAL = Message("report.field.staff-total", vi="Tổng số cán bộ", en="Staff in total")
STAFF_COMPUTER_LITERATE = Message(
    "report.field.staff-computer-literate",
    vi="Số người biết sử dụng vi tính",
    en="Staff who can use a computer",
)
COMPUTERS = Message("report.field.computers", vi="Số máy tính", en="Computers")
SERVERS = Message("report.field.servers", vi="Số máy chủ", en="Servers")
LAN_STATE = Message("report.field.lan-state", vi="Tình trạng mạng LAN", en="State of the LAN")
CONNECTION_STATE = Message(
    "report.field.connection-state", vi="Tình trạng đường truyền", en="State of the connection"
)
INCIDENTS = Message("report.field.incidents", vi="Sự cố", en="Incidents")
PROPOSALS = Message("report.field.proposals", vi="Đề xuất, kiến nghị", en="Proposals")

# The periodic form (office.reports.forms).
NOT_A_NUMBER = Message(
    "report.form.not-a-number",
    vi="{label}: phải là một số nguyên.",
    en="{label}: must be a whole number.",
)
NEGATIVE = Message(
    "report.form.negative",
    vi="{label}: không được là số âm ({value}).",
    en="{label}: must not be negative ({value}).",
)
TOO_LARGE = Message(
    "report.form.too-large",
    vi="{label}: số quá lớn ({value}).",
    en="{label}: the number is too large ({value}).",
)
MORE_LITERATE_THAN_STAFF = Message(
    "report.form.inconsistent",
    vi=("Số người biết sử dụng vi tính ({literate}) không thể lớn hơn tổng số cán bộ ({total})."),
    en="Staff who can use a computer ({literate}) cannot outnumber the staff in total ({total}).",
)
TOO_LONG = Message(
    "report.form.too-long",
    vi="{label}: dài quá {limit} ký tự.",
    en="{label}: longer than {limit} characters.",
)
FORM_STALE = Message(
    "report.form.stale",
    vi="Biểu mẫu đã được người khác sửa trong lúc bạn nhập: hãy tải lại trang.",
    en="Someone else changed the form while you were typing: please reload the page.",
)
MISSING_REVISION = Message(
    "report.form.missing-revision",
    vi="Biểu mẫu thiếu phiên bản. Vui lòng tải lại trang.",
    en="The form has no revision. Please reload the page.",
)

# Periods (office.reports.periods).
PERIOD_TOO_OLD = Message(
    "report.period.too-old",
    vi="Kỳ báo cáo {period}: hệ thống chỉ có số liệu từ năm {first}.",
    en="Period {period}: the system has figures from {first} on only.",
)
PERIOD_FUTURE = Message(
    "report.period.future",
    vi="Kỳ báo cáo {period} chưa bắt đầu (hôm nay là {today:%d/%m/%Y}).",
    en="Period {period} has not begun yet (today is {today:%d/%m/%Y}).",
)
PERIOD_MALFORMED = Message(
    "report.period.malformed",
    vi=(
        "Kỳ báo cáo {text!r} không hợp lệ: viết năm (2005), quý (Quý IV/2005 hoặc 2005-Q4) "
        "hoặc tháng (11/2005 hoặc 2005-11)."
    ),
    en=(
        "Period {text!r} is not valid: write a year (2005), a quarter (Quý IV/2005 or "
        "2005-Q4) or a month (11/2005 or 2005-11)."
    ),
)

# Making and sending a report (office.reports.aggregate, rendering, service).
UNKNOWN_UNIT = Message(
    "report.unknown-unit",
    vi="Đơn vị {unit} không có trong danh bạ.",
    en="Unit {unit} is not in the directory.",
)
NOT_HOSTED = Message(
    "report.not-hosted",
    vi="Đơn vị {unit} không thuộc máy chủ này.",
    en="Unit {unit} is not hosted on this server.",
)
BAD_FORMAT = Message(
    "report.format",
    vi="Định dạng báo cáo {name!r} không được hỗ trợ: chọn html, pdf hoặc docx.",
    en="Report format {name!r} is not offered: choose html, pdf or docx.",
)
NO_RECIPIENT = Message(
    "report.no-recipient",
    vi="Đơn vị {unit} không có nơi nhận báo cáo ở máy chủ khác.",
    en="Unit {unit} has nowhere on another server to send its report to.",
)

# Phát hành báo cáo: the report as its unit's outgoing draft (office.reports.drafting).
TO_PUBLISH = Message(
    "report.may.publish", vi="phát hành báo cáo của đơn vị này", en="issue this unit's report"
)
TO_SEND_FIGURES = Message(
    "report.may.send_figures",
    vi="gửi số liệu xử lý văn bản của đơn vị lên",
    en="send the unit's document-handling figures up",
)
NO_SIGNER = Message(
    "report.no-signer",
    vi=(
        "Báo cáo chưa ghi họ tên người ký: ghi ở mục “Số, ngày và người ký”, xem lại báo cáo "
        "rồi phát hành."
    ),
    en=(
        "The report names no signer: write the signer's name under “Number, date and signer”, "
        "show the report again, then issue it."
    ),
)

# The leaders' dashboard's sorting links (office.reports.overview).
UNKNOWN_SORT = Message(
    "report.dashboard.sort",
    vi="Không sắp xếp được theo “{column}”: hãy bấm vào tên một cột của bảng.",
    en="The table cannot be sorted by “{column}”: click the name of one of its columns.",
)
UNKNOWN_ORDER = Message(
    "report.dashboard.order",
    vi="Thứ tự sắp xếp “{order}” không hợp lệ: chỉ có asc (tăng dần) hoặc desc (giảm dần).",
    en="Sort order “{order}” is not valid: only asc (ascending) or desc (descending).",
)

# A report received from a unit below (office.reports.service): kept as the arrival's reason.
WRONG_UNIT = Message(
    "report.wrong-unit",
    vi=(
        "Đơn vị {sender} gửi báo cáo thay cho đơn vị {unit}: chỉ nhận báo cáo của "
        "chính đơn vị ký gửi."
    ),
    en=(
        "Unit {sender} sent a report for unit {unit}: only a report of the unit that signed "
        "it is accepted."
    ),
)
MISSING_FIGURES = Message(
    "report.missing-figures",
    vi="Báo cáo thiếu thời điểm lập hoặc số liệu.",
    en="The report lacks the time it was made or its figures.",
)
NO_TIME_ZONE = Message(
    "report.no-time-zone",
    vi="Thời điểm lập báo cáo thiếu múi giờ.",
    en="The time the report was made has no time zone.",
)
MALFORMED_FORM = Message(
    "report.malformed-form",
    vi="Biểu mẫu trong báo cáo không đúng dạng.",
    en="The form in the report is malformed.",
)
MALFORMED_MONTH = Message(
    "report.malformed-month",
    vi="Số liệu tháng không đúng dạng.",
    en="A month's figures are malformed.",
)
MONTH_OUTSIDE_PERIOD = Message(
    "report.month-outside-period",
    vi="Tháng {month!r} không thuộc kỳ báo cáo {period}.",
    en="Month {month!r} is not in the period {period}.",
)
NEGATIVE_FIGURE = Message(
    "report.negative-figure",
    vi="Số liệu tháng {month}: {name} phải là số nguyên không âm.",
    en="The figures of month {month}: {name} must be a whole number, not negative.",
)
MALFORMED_PEOPLE = Message(
    "report.malformed-people",
    vi="Danh sách người dùng tháng {month} không đúng dạng.",
    en="The list of users of month {month} is malformed.",
)

# A ``figures`` dispatch (office.reports.live): kept as the arrival's reason.
FIGURES_MALFORMED = Message(
    "report.figures-malformed",
    vi="Số liệu xử lý văn bản không đúng dạng (phần {part}).",
    en="The document-handling figures are malformed (part {part}).",
)
FIGURES_NEGATIVE = Message(
    "report.figures-negative",
    vi="Số liệu xử lý văn bản ({part}): {name} phải là số nguyên không âm.",
    en="The document-handling figures ({part}): {name} must be a whole number, not negative.",
)
FIGURES_WRONG_UNIT = Message(
    "report.figures-wrong-unit",
    vi=(
        "Đơn vị {sender} gửi số liệu thay cho đơn vị {unit}: chỉ nhận số liệu của "
        "chính đơn vị ký gửi."
    ),
    en=(
        "Unit {sender} sent figures for unit {unit}: only the figures of the unit that signed "
        "them are accepted."
    ),
)
FIGURES_FUTURE = Message(
    "report.figures-future",
    vi=(
        "Số liệu xử lý văn bản lập lúc {made_at:%H:%M %d/%m/%Y}, sau thời điểm nhận "
        "({received_at:%H:%M %d/%m/%Y}): đồng hồ máy chủ gửi bị sai."
    ),
    en=(
        "The document-handling figures were made at {made_at:%H:%M %d/%m/%Y}, after they "
        "arrived ({received_at:%H:%M %d/%m/%Y}): the sending server's clock is wrong."
    ),
)
NO_FIGURES_TO_SEND = Message(
    "report.no-figures-to-send",
    vi="Máy chủ này không có đơn vị nào gửi số liệu lên máy chủ khác.",
    en="No unit on this server sends its figures to another server.",
)
