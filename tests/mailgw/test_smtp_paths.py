"""The submission listener reads MAIL FROM and RCPT TO arguments as aiosmtpd does: its own
reading (:meth:`mailgw.smtp.SubmissionServer._getaddr`) replaces aiosmtpd's only for speed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import SMTP
from hypothesis import given
from hypothesis import strategies as st

from mailgw.smtp import SubmissionServer

#: Pieces a path is made of, so that generated arguments are often well formed.
PIECES = st.sampled_from(["<", ">", "@", ".", '"', " ", "\\", "(", ")", ",", "a", "é", "SIZE=1"])


class _Handler:
    pass


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One loop for every server made here, closed after: without one, aiosmtpd makes a loop
    per server and never closes it, and the garbage collector's warnings about them fail
    whichever test it happens to run in."""
    made = asyncio.new_event_loop()
    yield made
    made.close()


def _servers(
    loop: asyncio.AbstractEventLoop, local_part_limit: int
) -> tuple[SMTP, SubmissionServer]:
    theirs, ours = SMTP(_Handler(), loop=loop), SubmissionServer(_Handler(), loop=loop)
    theirs.local_part_limit = ours.local_part_limit = local_part_limit
    return theirs, ours


def _reading(server: SMTP, arg: str) -> object:
    """What ``_getaddr`` answers, or the kind of error it raises (the email package's parser
    raises IndexError on some text, inside aiosmtpd too: the client is answered 500)."""
    try:
        return server._getaddr(arg)
    except Exception as error:  # compared, whatever it is
        return type(error)


@given(st.one_of(st.text(max_size=80), st.lists(PIECES, max_size=30).map("".join)))
def test_a_path_is_read_as_aiosmtpd_reads_it(loop: asyncio.AbstractEventLoop, arg: str) -> None:
    for limit in (0, 3):
        theirs, ours = _servers(loop, limit)
        assert _reading(ours, arg) == _reading(theirs, arg)


def test_a_local_part_past_the_limit_is_malformed(loop: asyncio.AbstractEventLoop) -> None:
    _theirs, ours = _servers(loop, 3)
    assert ours._getaddr("<abcd@b.c>") == (None, None)
    assert ours._getaddr("<abc@b.c>") == ("abc@b.c", "")
