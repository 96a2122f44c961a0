"""The home page's messages: its sections and the day's work."""

from __future__ import annotations

VI: dict[str, str] = {
    "home.title": "Trang chủ",
    "home.greeting": "Xin chào, {name}",
    "home.unit": "Đơn vị",
    "home.role": "Vai trò",
    "home.clearance": "Được xem tài liệu mật đến mức",
    "home.signed_in_at": "Đăng nhập lúc",
    "home.sections": "Chức năng",
    "home.tasks": "Việc của tôi",
    "home.tasks.none": "Không có việc nào đang chờ bạn xử lý.",
    "home.followed": "Việc đã giao sắp đến hạn hoặc quá hạn",
    "home.presented.none": "Không có văn bản nào được trình bạn đang chờ ý kiến chỉ đạo.",
    "home.queue": "Văn bản đến chờ vào sổ",
    "home.due_soon": "Sắp đến hạn",
    "home.figures.received": "Văn bản đến trong năm",
    "home.figures.in_progress": "Đang xử lý",
    "home.figures.overdue": "Quá hạn",
    "home.figures.done": "Đã hoàn thành trong năm",
}

EN: dict[str, str] = {
    "home.title": "Home",
    "home.greeting": "Hello, {name}",
    "home.unit": "Unit",
    "home.role": "Role",
    "home.clearance": "Security clearance",
    "home.signed_in_at": "Signed in at",
    "home.sections": "Sections",
    "home.tasks": "My tasks",
    "home.tasks.none": "You have no tasks waiting.",
    "home.followed": "Tasks you assigned that are due soon or overdue",
    "home.presented.none": "No document presented to you is waiting for your direction.",
    "home.queue": "Incoming documents awaiting registration",
    "home.due_soon": "Due soon",
    "home.figures.received": "Incoming documents this year",
    "home.figures.in_progress": "In progress",
    "home.figures.overdue": "Overdue",
    "home.figures.done": "Completed this year",
}

MESSAGES: dict[str, dict[str, str]] = {"vi": VI, "en": EN}
