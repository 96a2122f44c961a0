"""A document's files are told by their content: each kind a document carries is known, a
file whose name's extension says otherwise is refused, and a zip is read within bounds."""

from __future__ import annotations

import struct
import time
import zipfile
from pathlib import Path

import pytest

from config.errors import Invalid
from office.documents import file_kinds
from office.documents.pdf_signing import simple_pdf

PNG_START = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG_START = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def office_zip(path: Path, *entries: tuple[str, str], stored_first: bool = False) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, content) in enumerate(entries):
            info = zipfile.ZipInfo(name)
            info.compress_type = (
                zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            )
            archive.writestr(info, content)
    return path


def docx(path: Path) -> Path:
    return office_zip(path, ("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w/>"))


def xlsx(path: Path) -> Path:
    return office_zip(path, ("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<w/>"))


def opendocument(path: Path, mimetype: str) -> Path:
    return office_zip(path, ("mimetype", mimetype), ("content.xml", "<o/>"), stored_first=True)


def written(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_each_kind_a_document_carries_is_known_by_its_content(tmp_path: Path) -> None:
    pdf = tmp_path / "cong-van.pdf"
    simple_pdf(("Công văn",), pdf)
    files = {
        pdf: file_kinds.PDF,
        docx(tmp_path / "du-thao.docx"): file_kinds.DOCX,
        xlsx(tmp_path / "bieu-mau.xlsx"): file_kinds.XLSX,
        opendocument(tmp_path / "to-trinh.odt", file_kinds.ODT.content_type): file_kinds.ODT,
        opendocument(tmp_path / "so-lieu.ods", file_kinds.ODS.content_type): file_kinds.ODS,
        written(tmp_path / "anh.png", PNG_START): file_kinds.PNG,
        written(tmp_path / "anh.JPG", JPEG_START): file_kinds.JPEG,
        written(tmp_path / "anh.jpeg", JPEG_START): file_kinds.JPEG,
    }
    for path, kind in files.items():
        assert file_kinds.checked_kind(path, path.name) == kind, path.name


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("bao-cao.pdf", "docx", "có nội dung là DOCX"),
        ("du-thao.docx", "pdf", "có nội dung là PDF"),
        ("anh.png", "exe", "không thuộc loại được nhận"),
        ("ghi-chu.txt", "text", "không thuộc loại được nhận"),
        ("nen.zip", "zip", "không thuộc loại được nhận"),
        ("to-trinh.odt", "odt-unknown", "không thuộc loại được nhận"),
        ("bang.xlsx", "docx", "có nội dung là DOCX"),
        ("khong-duoi", "pdf", "có nội dung là PDF"),
    ],
)
def test_a_file_not_of_a_kind_or_not_what_its_name_says_is_refused_by_name(
    tmp_path: Path, name: str, content: str, reason: str
) -> None:
    path = tmp_path / "upload"
    if content == "docx":
        docx(path)
    elif content == "pdf":
        simple_pdf(("x",), path)
    elif content == "exe":
        path.write_bytes(b"MZ\x90\x00\x03" + bytes(200))
    elif content == "text":
        path.write_bytes(b"just words")
    elif content == "zip":
        office_zip(path, ("a.txt", "a"))
    else:
        opendocument(path, "application/x-unknown")
    with pytest.raises(Invalid) as refused:
        file_kinds.checked_kind(path, name)
    assert reason in refused.value.message and f"“{name}”" in refused.value.message


def test_a_zip_with_a_hundred_thousand_entries_is_refused_without_reading_them(
    tmp_path: Path,
) -> None:
    bomb = tmp_path / "bom.docx"
    with zipfile.ZipFile(bomb, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w/>")
        for index in range(100_000):
            archive.writestr(f"{index}", "")
    started = time.monotonic()
    with pytest.raises(Invalid) as refused:
        file_kinds.checked_kind(bomb, bomb.name)
    assert time.monotonic() - started < 0.5
    assert "quá nhiều thành phần" in refused.value.message


def test_a_zip64_directory_is_refused_however_small(tmp_path: Path) -> None:
    """A zip64 record gives sizes the bounds were not checked on: refused unread, as no
    document needs one (the record is valid: Python's own reader takes the file)."""
    plain = docx(tmp_path / "plain.docx").read_bytes()
    body, end = plain[:-22], plain[-22:]
    entries, directory_size, directory_at = struct.unpack("<10xHII2x", end)
    record = struct.pack(
        "<4sQ2H2I4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, directory_size,
        directory_at,
    )  # fmt: skip
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, len(body), 1)
    small = written(tmp_path / "nho.docx", body + record + locator + end)
    with zipfile.ZipFile(small) as archive:
        assert "word/document.xml" in archive.namelist()
    with pytest.raises(Invalid) as refused:
        file_kinds.checked_kind(small, small.name)
    assert "quá nhiều thành phần" in refused.value.message


def test_an_empty_or_truncated_zip_is_not_a_document(tmp_path: Path) -> None:
    whole = docx(tmp_path / "a.docx").read_bytes()
    cut = written(tmp_path / "cut.docx", whole[: len(whole) // 2])
    empty = written(tmp_path / "empty.docx", b"")
    for path in (cut, empty):
        with pytest.raises(Invalid):
            file_kinds.checked_kind(path, path.name)
    assert file_kinds.received_content_type(cut) is None


def test_the_pages_label_a_stored_file_by_its_content_type() -> None:
    assert file_kinds.label_of("application/pdf") == "pdf"
    assert file_kinds.label_of(file_kinds.DOCX.content_type) == "docx"
    assert file_kinds.label_of("message/rfc822") == "other"
