"""Outgoing numbers and symbols: Party style by default, state style where a unit chose it
with ``congvan documents numbering``."""

from __future__ import annotations

import asyncio

import pytest

from config.database import open_database
from config.settings import Settings
from office.documents.numbering import (
    PARTY_STYLE,
    STATE_STYLE,
    default_issuer,
    number_symbol,
    numbering_style,
)
from tests.support.cli import Cli


@pytest.mark.parametrize(
    ("number", "doc_type", "style", "expected"),
    [
        (5, "NQ", PARTY_STYLE, "05-NQ/TU"),
        (123, "CV", PARTY_STYLE, "123-CV/TU"),
        (15, "QĐ", STATE_STYLE, "15/QĐ-TU"),
        (12, "CV", STATE_STYLE, "12/TU"),
    ],
)
def test_a_number_is_written_in_the_units_style(
    number: int, doc_type: str, style: str, expected: str
) -> None:
    assert number_symbol(number, doc_type, style, "TU") == expected


def test_the_issuer_defaults_to_the_committee_part_of_the_unit_code() -> None:
    assert (default_issuer("HU-CAMLO"), default_issuer("TU")) == ("HU", "TU")


def test_an_office_chooses_its_numbering_style_for_the_units_it_hosts(
    cli: Cli, province: Settings
) -> None:
    chosen = cli(
        "documents",
        "numbering",
        "TU",
        "--style",
        "state",
        "--issuer",
        "TU",
        "--dir",
        province.node_dir,
    )
    assert chosen.stdout.strip() == "TU: 5/NQ-TU, 12/TU"

    async def read() -> tuple[tuple[str, str], tuple[str, str]]:
        async with open_database(province) as sessions, sessions() as session:
            return (
                await numbering_style(session, "TU"),
                await numbering_style(session, "BTC"),
            )

    assert asyncio.run(read()) == (("state", "TU"), ("party", "BTC"))
    elsewhere = cli(
        "documents",
        "numbering",
        "HU-CAMLO",
        "--style",
        "party",
        "--issuer",
        "HU",
        "--dir",
        province.node_dir,
        check=False,
    )
    assert elsewhere.returncode != 0
    assert "không thuộc máy chủ này" in elsewhere.stderr
    bad = cli(
        "documents",
        "numbering",
        "TU",
        "--style",
        "party",
        "--issuer",
        "T U",
        "--dir",
        province.node_dir,
        check=False,
    )
    assert bad.returncode != 0 and "Chữ viết tắt cơ quan ban hành" in bad.stderr
