"""Fuzzing the payload's MIME reader (``exchange.mime.read_mime``).

It reads what a verified sender's software wrote, but that software may be broken or the
node compromised: whatever the bytes, the reader refuses them as ``malformed``
(``config.errors.Invalid``) or gives back parts that are files of their stated size, inside
the folder it was given, under distinct names that name no other folder.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from config.errors import Invalid
from exchange.mime import MAX_PARTS, OutgoingPart, read_mime, safe_file_name, write_mime
from tests.fuzz.fuzzing import Edit, edits, mutate, share

TESTS = 2

frame = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
fragments = st.one_of(
    st.sampled_from(
        [
            b"--b\r\n",
            b"--b--\r\n",
            b"--b",
            b"\r\n",
            b"\n",
            b"\r",
            b"\x00",
            b"Content-Transfer-Encoding: base64\r\n",
            b"Content-Transfer-Encoding: BASE64 \r\n",
            b"Content-Type: multipart/mixed; boundary=b\r\n",
            b"Content-Type: application/pdf; name*=utf-8''%E1%BB%87\r\n",
            b"Content-Disposition: attachment; filename*=utf-8''%E1%BB%87\r\n",
            b"Content-Disposition: attachment; filename*0*=utf-8''a; filename*2=b\r\n",
            b"Content-Disposition: attachment; filename*=x''%ff%fe\r\n",
            b'Content-Disposition: attachment; filename="../../etc/passwd"\r\n',
            b"Content-Disposition: attachment; filename==?utf-8?b?Li4vYQ==?=\r\n",
            b'Content-Type: text/plain; charset="\xff"\r\n',
            b"\tcontinued\r\n",
            b"YWJj\r\n",
            b"YQ==\r\n",
            b"====\r\n",
            b"A" * 1200 + b"\r\n",
        ]
    ),
    st.binary(max_size=30),
)
#: Input that looks like a payload at first: a multipart header, then pieces of parts.
shaped = st.lists(fragments, max_size=24).map(lambda pieces: frame + b"".join(pieces))

names = st.text(max_size=30) | st.sampled_from(["", "..", "manifest.json", "Nghị quyết.pdf"])
parts = st.lists(
    st.builds(
        OutgoingPart,
        name=names,
        content_type=st.sampled_from(["application/pdf", "text/plain"]),
        data=st.binary(max_size=300),
    ),
    max_size=4,
)
written = parts.map(lambda given: b"".join(write_mime(given, {"X-Congvan-Dispatch": "x"})))
block_sizes = st.sampled_from([1, 2, 7, 64, 1024 * 1024])


def read_or_refuse(raw: bytes, block_size: int) -> None:
    """Read ``raw``; a refusal is ``malformed``, a success is files where they belong."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        try:
            _top, received = read_mime(io.BytesIO(raw), out, block_size=block_size)
        except Invalid as refusal:
            assert refusal.code == "malformed"
            return
        assert len(received) <= MAX_PARTS
        assert len({part.name for part in received}) == len(received)
        for index, part in enumerate(received):
            assert part.path.parent == out and part.path.name == part.name
            assert safe_file_name(part.name, index) == part.name
            assert part.path.stat().st_size == part.size
        assert sorted(path.name for path in out.iterdir()) == sorted(p.name for p in received)


#: Found by the long run: an RFC 2231 file name whose charset holds a NUL byte made Python's
#: ``get_filename`` raise ValueError ("embedded null character") out of the reader.
NUL_IN_CHARSET = (
    frame + b"--b\r\nContent-Disposition: attachment; filename*=utf\x00-8''a\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nYQ==\r\n--b--\r\n"
)


@share(TESTS)
@given(st.binary(max_size=600) | shaped, block_sizes)
@example(NUL_IN_CHARSET, 1024 * 1024)
def test_arbitrary_bytes_are_read_into_the_folder_or_malformed(raw: bytes, block_size: int) -> None:
    read_or_refuse(raw, block_size)


@share(TESTS)
@given(written, edits, block_sizes)
def test_a_mutated_payload_is_read_into_the_folder_or_malformed(
    raw: bytes, changes: list[Edit], block_size: int
) -> None:
    read_or_refuse(mutate(raw, changes), block_size)
