"""The payload's MIME message: written in pieces, read line by line, names made safe.

Python's own ``email`` parser (which we did not write) reads what the writer makes; the reader
gives back every part byte for byte under the names both sides agree on, and refuses anything
else as ``malformed`` (``config.errors.Invalid``) and with no other exception.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import tempfile
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from config.errors import Invalid
from exchange.mime import (
    BINARY_PARTS,
    MAX_LINE,
    IteratorReader,
    OutgoingPart,
    assign_names,
    read_mime,
    safe_file_name,
    write_mime,
)

#: A file system refuses names longer than this many bytes.
NAME_MAX = 255


def message(parts: list[OutgoingPart], headers: dict[str, str] | None = None) -> bytes:
    return b"".join(write_mime(parts, headers or {}))


def read_back(raw: bytes, out_dir: Path) -> list[tuple[str, str, bytes]]:
    _top, parts = read_mime(io.BytesIO(raw), out_dir)
    assert all(
        part.path.parent == out_dir and part.size == part.path.stat().st_size for part in parts
    )
    return [(part.name, part.content_type, part.path.read_bytes()) for part in parts]


# -- examples -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_name", "safe"),
    [
        ("Nghị quyết 05.pdf", "Nghị quyết 05.pdf"),
        ("../x.pdf", "x.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\vanthu\\Tờ trình.docx", "Tờ trình.docx"),
        ("/", "file-3"),
        ("..", "file-3"),
        (".", "file-3"),
        ("", "file-3"),
        (" .hidden. ", "hidden"),
        ("a\x00b\nc\rd.pdf", "a_b_c_d.pdf"),
        ('bao "cao"; x=1.pdf', "bao _cao__ x_1.pdf"),
        ("Quyết định (số 12), bản 1+2@tu.pdf", "Quyết định (số 12), bản 1+2@tu.pdf"),
    ],
)
def test_a_file_name_cannot_climb_out_of_its_folder_or_hide(given_name: str, safe: str) -> None:
    assert safe_file_name(given_name, 3) == safe


def test_a_name_typed_on_a_mac_keeps_its_vietnamese_letters() -> None:
    """macOS hands over decomposed letters (NFD); they come out as the composed ones."""
    decomposed = "Nghi\u0323 quye\u0302\u0301t 05.pdf"
    assert safe_file_name(decomposed, 0) == "Nghị quyết 05.pdf"


def test_a_long_name_is_cut_to_fit_a_file_system_and_keeps_no_trailing_dot() -> None:
    for name in ("ệ" * 300, "a" * 300, "a" * 199 + " b.pdf", "Quyết định " * 40):
        safe = safe_file_name(name, 0)
        assert 0 < len(safe.encode()) <= NAME_MAX
        assert safe == safe.strip(" .")
        assert safe_file_name(safe, 0) == safe


def test_a_long_vietnamese_name_travels_and_fits_the_file_system(tmp_path: Path) -> None:
    """A decision's full title as its file name: about 600 bytes of UTF-8, sent twice."""
    title = "Quyết định về việc phê duyệt đề án chuyển đổi số của Tỉnh uỷ Quảng Trị " * 3
    names = assign_names([f"{title}.pdf", f"{title}.pdf", "ngắn.pdf"])
    assert len(set(names)) == 3 and all(len(name.encode()) <= NAME_MAX for name in names)
    parts = [OutgoingPart(name, "application/pdf", data=name.encode()) for name in names]
    raw = message(parts)
    assert all(len(line) <= MAX_LINE for line in raw.split(b"\r\n"))
    assert read_back(raw, tmp_path) == [(name, "application/pdf", name.encode()) for name in names]


def test_the_same_name_twice_gets_the_index_in_front() -> None:
    names = ["manifest.json", "Nghị quyết.pdf", "Nghị quyết.pdf", "../Nghị quyết.pdf", ""]
    assert assign_names(names) == [
        "manifest.json",
        "Nghị quyết.pdf",
        "2-Nghị quyết.pdf",
        "3-Nghị quyết.pdf",
        "file-4",
    ]


def test_pythons_email_parser_reads_what_the_writer_writes() -> None:
    parts = [
        OutgoingPart("manifest.json", "application/json", data=b'{"v":1}'),
        OutgoingPart("Nghị quyết 05.pdf", "application/pdf", data=bytes(range(256)) * 5),
        OutgoingPart("empty.txt", "text/plain", data=b""),
    ]
    raw = message(parts, {"X-Congvan-Dispatch": "d-1"})
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))  # RFC 5322
    assert b"\n" not in raw.replace(b"\r\n", b"")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["X-Congvan-Dispatch"] == "d-1"
    assert [
        (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        for part in parsed.iter_parts()
    ] == [(part.name, part.content_type, part.data) for part in parts]


def test_a_part_streams_from_a_file_in_pieces(tmp_path: Path) -> None:
    source = tmp_path / "scan.pdf"
    source.write_bytes(bytes(range(256)) * 1000 + b"tail")
    pieces = list(write_mime([OutgoingPart("scan.pdf", "application/pdf", path=source)], {}))
    assert max(len(piece) for piece in pieces) < 90_000
    out = tmp_path / "out"
    out.mkdir()
    assert read_back(b"".join(pieces), out) == [
        ("scan.pdf", "application/pdf", source.read_bytes())
    ]


def test_a_part_needs_data_or_a_path() -> None:
    with pytest.raises(ValueError, match="data or a path"):
        message([OutgoingPart("x", "text/plain")])


def test_the_reader_reads_through_an_iterator_reader(tmp_path: Path) -> None:
    parts = [OutgoingPart(f"part {i}", "text/plain", data=bytes([i]) * i * 100) for i in range(8)]
    stream = io.BufferedReader(IteratorReader(write_mime(parts, {})), buffer_size=100)
    _top, received = read_mime(stream, tmp_path)
    assert [(p.name, p.path.read_bytes()) for p in received] == [(p.name, p.data) for p in parts]


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"", "ends inside a header"),
        (b"Content-Type: text/plain\r\n\r\nhello\r\n", "not multipart/mixed"),
        (b"Content-Type: multipart/mixed\r\n\r\n--x\r\n", "not multipart/mixed"),
        (b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n', "cut short"),
        (b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\n', "not base64"),
        (
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\nYWJj\r\n",
            "cut short",
        ),
        (
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\nYWJ\r\n--b--\r\n",
            "not valid base64",
        ),
        (
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\nYW*j\r\n--b--\r\n",
            "not valid base64",
        ),
        (
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Transfer-Encoding: \xff\xfe\r\n\r\n--b--\r\n",
            "not base64",
        ),
        (
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n" + b"A" * (MAX_LINE + 4) + b"\r\n--b--\r\n",
            "line too long",
        ),
        (b"X-Long: " + b"a" * 900 + b"\r\n" + b"X-More: b\r\n" * 2000, "header too long"),
        (
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
            + b"--b\r\nContent-Transfer-Encoding: base64\r\n\r\n" * 1001
            + b"--b--\r\n",
            "too many parts",
        ),
    ],
    ids=[
        "empty",
        "not multipart",
        "no boundary",
        "no parts",
        "no encoding",
        "no closing",
        "short base64",
        "bad base64",
        "8-bit header",
        "long line",
        "long header",
        "too many parts",
    ],
)
def test_a_message_of_another_shape_is_malformed(tmp_path: Path, raw: bytes, words: str) -> None:
    with pytest.raises(Invalid, match=words) as caught:
        read_mime(io.BytesIO(raw), tmp_path)
    assert caught.value.code == "malformed"


# -- properties ---------------------------------------------------------------------------------

names = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="ệấưđờỹ ./\\-a", min_size=60, max_size=320),
    st.sampled_from(["", ".", "..", "../x.pdf", "manifest.json", "Nghị quyết 05.pdf", "0-a"]),
)
contents = st.binary(max_size=300)
media_types = st.sampled_from(["application/pdf", "application/octet-stream", "text/plain"])


@hypothesis_settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(names, contents, media_types), max_size=8), st.booleans())
def test_any_parts_come_back_byte_for_byte_under_the_assigned_names(
    given_parts: list[tuple[str, bytes, str]], from_files: bool
) -> None:
    assigned = assign_names([name for name, _, _ in given_parts])
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        parts = []
        for index, ((_, data, media_type), name) in enumerate(
            zip(given_parts, assigned, strict=True)
        ):
            if from_files:
                source = root / f"source-{index}"
                source.write_bytes(data)
                parts.append(OutgoingPart(name, media_type, path=source))
            else:
                parts.append(OutgoingPart(name, media_type, data=data))
        out = root / "out"
        out.mkdir()
        received = read_back(message(parts, {"X-Congvan-Dispatch": "x"}), out)
    assert received == [
        (name, media, data) for (_, data, media), name in zip(given_parts, assigned, strict=True)
    ]


@hypothesis_settings(max_examples=50, deadline=None)
@given(st.lists(names, max_size=12))
def test_assigned_names_are_safe_distinct_and_stable(given_names: list[str]) -> None:
    assigned = assign_names(given_names)
    assert len(assigned) == len(given_names)
    assert len(set(assigned)) == len(assigned)
    for name in assigned:
        assert name and name not in (".", "..") and "/" not in name and "\\" not in name
        assert name == name.strip(" .")
        assert len(name.encode()) <= NAME_MAX
        assert name.isprintable()
    assert assign_names(assigned) == assigned


frame = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
fragments = st.one_of(
    st.sampled_from(
        [
            b"--b\r\n",
            b"--b--\r\n",
            b"--bb\r\n",
            b"\r\n",
            b"Content-Transfer-Encoding: base64\r\n",
            b"Content-Disposition: attachment; filename*=utf-8''%E1%BB%87\r\n",
            b"Content-Disposition: attachment; filename*0*=utf-8''a; filename*2=b\r\n",
            b'Content-Type: text/plain; charset="\xff"\r\n',
            b"Content-Transfer-Encoding: base64\xff\r\n",
            b"YWJj\r\n",
            b"YQ==\r\n",
            b"====\r\n",
        ]
    ),
    st.binary(max_size=30),
    st.binary(max_size=30).map(lambda value: b"Content-Transfer-Encoding: " + value + b"\r\n"),
    st.binary(max_size=30).map(
        lambda value: b"Content-Disposition: attachment; filename=" + value + b"\r\n"
    ),
)


@hypothesis_settings(max_examples=50, deadline=None)
@given(
    st.binary(max_size=200)
    | st.lists(fragments, max_size=16).map(lambda parts: frame + b"".join(parts))
)
def test_arbitrary_bytes_are_malformed_or_read_and_nothing_else(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        try:
            _top, parts = read_mime(io.BytesIO(raw), Path(scratch))
        except Invalid as error:
            assert error.code == "malformed"
            return
        assert all(part.path.parent == Path(scratch) for part in parts)


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    st.lists(st.binary(max_size=2000), min_size=1, max_size=5),
    st.integers(min_value=1, max_value=200),
)
def test_bodies_decode_the_same_whatever_the_block_size(
    contents: list[bytes], block_size: int
) -> None:
    """Boundaries straddling two blocks, or a block ending inside a line, change nothing."""
    parts = [
        OutgoingPart(f"p{i}", "application/octet-stream", data=c) for i, c in enumerate(contents)
    ]
    raw = b"".join(write_mime(parts, {}))
    with tempfile.TemporaryDirectory() as scratch:
        _top, received = read_mime(io.BytesIO(raw), Path(scratch), block_size=block_size)
        assert [part.path.read_bytes() for part in received] == contents


@pytest.mark.parametrize("block_size", [1, 7, 76, 78, 1024])
def test_a_long_line_is_refused_whatever_the_block_size(block_size: int, tmp_path: Path) -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b"QUJD" * 300 + b"\r\n--b--\r\n"
    )
    with pytest.raises(Invalid, match="line too long"):
        read_mime(io.BytesIO(raw), tmp_path, block_size=block_size)


# -- payload version 2: binary parts ----------------------------------------------------------


def test_binary_parts_come_back_byte_for_byte_with_the_digests_taken_as_they_were_written(
    tmp_path: Path,
) -> None:
    source = tmp_path / "scan.pdf"
    # Bytes that would end a scanned body: a CRLF, a delimiter of the writer's form.
    source.write_bytes(bytes(range(256)) * 4000 + b"\r\n--congvan-0\r\n--x--\r\n")
    parts = [
        OutgoingPart("manifest.json", "application/json", data=b'{"v":1}'),
        OutgoingPart("Nghị quyết 05.pdf", "application/pdf", path=source),
        OutgoingPart("empty.txt", "text/plain", data=b""),
    ]
    raw = b"".join(write_mime(parts, {}, BINARY_PARTS))
    assert len(raw) < source.stat().st_size + 2000  # not base64
    contents = [b'{"v":1}', source.read_bytes(), b""]
    for block_size in (7, 1000, 1 << 20):
        out = tmp_path / f"out-{block_size}"
        out.mkdir()
        _top, received = read_mime(io.BytesIO(raw), out, block_size=block_size)
        assert [(p.name, p.content_type, p.path.read_bytes(), p.sha256) for p in received] == [
            (part.name, part.content_type, content, hashlib.sha256(content).hexdigest())
            for part, content in zip(parts, contents, strict=True)
        ]


def test_pythons_email_parser_reads_binary_parts_too() -> None:
    data = bytes(range(256)) * 5 + b"\r\n\n\r"
    parts = [
        OutgoingPart("Nghị quyết 05.pdf", "application/pdf", data=data),
        OutgoingPart("empty.txt", "text/plain", data=b""),
    ]
    raw = b"".join(write_mime(parts, {"X-Congvan-Dispatch": "d-1"}, BINARY_PARTS))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert [(p.get_filename(), p.get_payload(decode=True)) for p in parsed.iter_parts()] == [
        ("Nghị quyết 05.pdf", data),
        ("empty.txt", b""),
    ]


BINARY_START = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (
            BINARY_START + b"Content-Transfer-Encoding: binary\r\n\r\nabc\r\n--b--\r\n",
            "no valid Content-Length",
        ),
        (
            BINARY_START
            + b"Content-Transfer-Encoding: binary\r\nContent-Length: -3\r\n\r\nabc\r\n--b--\r\n",
            "no valid Content-Length",
        ),
        (
            BINARY_START
            + b"Content-Transfer-Encoding: binary\r\nContent-Length: 2\r\n\r\nabc\r\n--b--\r\n",
            "does not end at its length",
        ),
        (
            BINARY_START
            + b"Content-Transfer-Encoding: binary\r\nContent-Length: 4\r\n\r\nabc\r\n--b--\r\n",
            "does not end at its length",
        ),
        (
            BINARY_START
            + b"Content-Transfer-Encoding: binary\r\nContent-Length: 99\r\n\r\nabc\r\n--b--\r\n",
            "cut short",
        ),
    ],
)
def test_a_binary_part_that_is_not_its_length_is_malformed(
    tmp_path: Path, raw: bytes, words: str
) -> None:
    with pytest.raises(Invalid, match=words) as caught:
        read_mime(io.BytesIO(raw), tmp_path)
    assert caught.value.code == "malformed"
