"""docs/settings.md names every setting a node reads, and nothing that is not one.

The page is what an operator writes ``node.toml`` from: a setting added to the code without
its line is a setting nobody can find (as ``docs/peer-api.yaml`` is held to the routes)."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

from config.settings import Settings

PAGE = Path(__file__).parents[2] / "docs" / "settings.md"
#: A table row: | `[section] key`, `other` | default | allowed |
ROW = re.compile(r"^\| `\[(?P<section>[a-z]+)\] (?P<first>[a-z_]+)`(?P<more>(?:, `[a-z_]+`)*) \|")


def documented() -> set[str]:
    keys = set()
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if match := ROW.match(line):
            names = [match["first"], *re.findall(r"`([a-z_]+)`", match["more"])]
            keys |= {f"[{match['section']}] {name}" for name in names}
    return keys


def in_the_code() -> set[str]:
    hints = typing.get_type_hints(Settings)
    keys = set()
    for section in dataclasses.fields(Settings):
        section_class = hints[section.name]
        if not dataclasses.is_dataclass(section_class):
            continue  # the node folder, not a setting of the file
        keys |= {f"[{section.name}] {field.name}" for field in dataclasses.fields(section_class)}
    return keys


def test_every_setting_has_its_line_on_the_page() -> None:
    assert sorted(in_the_code() - documented()) == []


def test_the_page_names_no_setting_the_code_does_not_read() -> None:
    assert sorted(documented() - in_the_code()) == []
