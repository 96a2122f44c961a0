"""What the fuzz modules share: byte mutations of a valid input, JSON values, and each test's
share of its target's cases.

A mutation is one to four edits (a flipped byte, bytes inserted, a range deleted or replaced,
a range repeated) of an original; :func:`mutate` keeps only results whose bytes differ from
it, since a "mutation" that leaves the bytes as they were must of course still be accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import assume, settings
from hypothesis import strategies as st

#: cryptography warns when it reads a certificate whose serial number is not positive (one
#: changed byte makes one) and will raise ValueError instead in a coming release, which the code
#: under test already refuses as unreadable; here the warning must not fail the test.
SERIAL_WARNING = pytest.mark.filterwarnings(
    "ignore:Parsed a serial number:cryptography.utils.CryptographyDeprecationWarning"
)


def share(tests: int) -> settings:
    """Settings for one of a target's ``tests``: the profile's cases divided among them, so
    that the target runs ``max_examples`` cases in all (100,000 under
    ``--hypothesis-profile=long``, a few seconds' worth under ``ci``)."""
    return settings(max_examples=-(-settings.default.max_examples // tests))


#: JSON as a peer may send it: scalars, lists and objects, nested.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=24)
    | st.sampled_from(["", "AAAA", "=", "TU", "HU-CAMLO", "../x", "\x00"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=10,
)


KINDS = ("flip", "insert", "delete", "replace", "repeat")


@dataclass(frozen=True)
class Edit:
    """One change to bytes, independent of them, so a failing one can be written down as an
    ``@example``: ``at`` counts from the end when negative and wraps around the length;
    ``data`` is what is inserted or put in place (for a flip, its first byte is the XOR mask)."""

    kind: str
    at: int
    length: int = 1
    data: bytes = b"\x01"

    def apply(self, original: bytes) -> bytes:
        size = len(original)
        start = self.at % (size + 1)
        end = min(size, start + self.length)
        if self.kind == "flip" and start < size:
            mask = self.data[0] or 1
            return original[:start] + bytes([original[start] ^ mask]) + original[start + 1 :]
        if self.kind == "delete" and start < size:
            return original[:start] + original[end:]
        if self.kind == "repeat" and start < size:
            return original[:end] + original[start:end] + original[end:]
        if self.kind == "replace" and start < size:
            return original[:start] + self.data + original[end:]
        return original[:start] + self.data + original[start:]


edits = st.lists(
    st.builds(
        Edit,
        kind=st.sampled_from(KINDS),
        at=st.integers(-(2**16), 2**16),
        length=st.integers(1, 64),
        data=st.binary(min_size=1, max_size=16),
    ),
    min_size=1,
    max_size=4,
)


def mutate(original: bytes, changes: list[Edit]) -> bytes:
    """``original`` with ``changes`` made in turn; a result equal to it is no mutation, and
    the example is dropped."""
    data = original
    for change in changes:
        data = change.apply(data)
    assume(data != original)
    return data


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with one to four edits, never equal to it."""
    return mutate(original, draw(edits))


def strictly_equal(left: Any, right: Any) -> bool:
    """Equal as JSON says, not as Python does: ``1``, ``1.0`` and ``True`` are three values."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(strictly_equal(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(strictly_equal, left, right))
    return bool(left == right)
