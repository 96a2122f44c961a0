"""The calendar feeds' messages (Vietnamese): the subscription page and the feed's own text."""

from __future__ import annotations

FEEDS_VI: dict[str, str] = {
    "feeds.title": "Lịch trên điện thoại",
    "feeds.intro": (
        "Đăng ký lịch công tác vào ứng dụng lịch trên điện thoại hoặc máy tính (Lịch Google, "
        "Lịch của iPhone, Outlook, Thunderbird…) bằng một địa chỉ riêng. Ứng dụng tự cập nhật "
        "khi lịch được phát hành hoặc điều chỉnh."
    ),
    "feeds.secret": (
        "Địa chỉ này là bí mật: ai có nó đều xem được lịch của bạn, kể cả nội dung mật bạn "
        "được xem. Không gửi cho người khác. Nếu lộ, hãy cấp địa chỉ mới: địa chỉ cũ sẽ ngừng "
        "hoạt động ngay."
    ),
    "feeds.scope.unit": "Lịch công tác của đơn vị",
    "feeds.scope.unit.about": "Toàn bộ lịch tuần đã phát hành của đơn vị {unit}.",
    "feeds.scope.person": "Lịch của tôi",
    "feeds.scope.person.about": "Những việc bạn chủ trì hoặc tham dự.",
    "feeds.active_since": "Đang hoạt động, cấp ngày {date}.",
    "feeds.none": "Chưa có địa chỉ.",
    "feeds.create": "Tạo địa chỉ",
    "feeds.renew": "Cấp địa chỉ mới",
    "feeds.renew.warning": "Địa chỉ cũ sẽ ngừng hoạt động.",
    "feeds.new_url": "Địa chỉ mới của “{scope}”",
    "feeds.new_url.once": (
        "Hãy sao chép địa chỉ này vào ứng dụng lịch (mục “Thêm lịch từ URL” hoặc “Đăng ký "
        "lịch”) ngay bây giờ: vì an toàn, trang này chỉ hiện nó một lần."
    ),
    "feeds.not_found": "Không tìm thấy lịch.",
    "feeds.bad_scope": "Loại lịch không hợp lệ.",
    # Inside the calendar file
    "feeds.ics.unit_calendar": "Lịch công tác {unit}",
    "feeds.ics.person_calendar": "Lịch công tác của {name}",
    "feeds.ics.chair": "Chủ trì: {value}",
    "feeds.ics.attendees": "Thành phần: {value}",
    "feeds.ics.prepared_by": "Chuẩn bị: {value}",
    "feeds.ics.notes": "Ghi chú: {value}",
    "feeds.ics.secrecy": "Độ mật: {level}",
    "feeds.ics.adjusted": "Điều chỉnh",
    "feeds.ics.cancelled": "Đã huỷ",
    "feeds.ics.cancelled_summary": "[Huỷ] {summary}",
}
