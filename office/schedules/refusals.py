"""The names of the fields the schedules' refusals name, in both languages (see
:mod:`config.refusals`); the pages' own messages are in :mod:`office.schedules.messages`."""

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
