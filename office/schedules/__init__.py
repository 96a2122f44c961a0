"""Weekly work schedules (lịch công tác tuần): drafting, approval, publishing, feeds."""
