"""What the keys layer refuses where a member of staff may read it, each message with its
Vietnamese and English side by side (see :mod:`config.refusals`)."""

from __future__ import annotations

from config.refusals import Message

PASSWORD_TOO_SHORT = Message(
    "password.too-short",
    vi="mật khẩu quá ngắn: cần ít nhất {minimum} ký tự",
    en="the password is too short: it needs at least {minimum} characters",
)
PASSWORD_TOO_COMMON = Message(
    "password.too-common",
    vi="mật khẩu quá phổ biến, dễ đoán",
    en="the password is too common, easy to guess",
)
PASSWORD_GUESSABLE = Message(
    "password.guessable",
    vi="mật khẩu dễ đoán: dùng một cụm từ dài hơn",
    en="the password is easy to guess: use a longer phrase",
)
