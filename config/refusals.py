"""Refusals by key, in both languages: what a service says when it refuses, rendered in the
language of whoever reads it.

A layer or feature defines its refusals once, in its ``refusals.py`` (the exchange's are in
``exchange/texts.py``, its ``refusals.py`` being the record of peers' refusals), each a
:class:`Message` with its Vietnamese and English text side by side; a service raises an error
carrying the message and its values (``Invalid(TOO_LONG(label=NOTE, limit=500))``); the staff
pages show it in the reader's language (:meth:`config.errors.CongvanError.text`), while logs,
JSON answers and the command line keep the Vietnamese (``error.message``). A value may itself
be a message (a field's name): it is rendered in the same language; ``{label:cap}``
capitalises it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


class _Rendered(str):
    """A message rendered as a value of another: ``{label:cap}`` capitalises its first letter."""

    def __format__(self, spec: str) -> str:
        if spec == "cap":
            return self[:1].upper() + self[1:]
        return super().__format__(spec)


@dataclass(frozen=True)
class Message:
    """One refusal's text, by key, in every language the product speaks."""

    key: str
    vi: str
    en: str

    def __call__(self, **values: object) -> Said:
        return Said(self, values)

    def in_language(self, language: str) -> str:
        return Said(self, {}).in_language(language)


@dataclass(frozen=True)
class Said:
    """A message with the values it was said with."""

    message: Message
    values: Mapping[str, object] = field(default_factory=dict)

    def in_language(self, language: str) -> str:
        template = self.message.en if language == "en" else self.message.vi
        return template.format(
            **{name: _rendered(value, language) for name, value in self.values.items()}
        )

    def __str__(self) -> str:
        return self.in_language(DEFAULT_LANGUAGE)


def _rendered(value: object, language: str) -> object:
    if isinstance(value, Message | Said):
        return _Rendered(value.in_language(language))
    return value
