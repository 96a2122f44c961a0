"""Approving is signing, issuing adds the number and the unit's signature: checked by tools we
did not write.

A throwaway CA issues a person (``keys issue-person``'s shape: CN the full name, title, O the
unit, UID and OU the username) and a unit their signing certificates. The person signs a
WeasyPrint draft whose page 1 has the ``Số …`` and ``…, ngày … tháng … năm …`` placeholders; the
clerk issues it with the number, the date and the unit's signature. ``pdfsig`` (poppler) and
``pyhanko sign validate`` must find two valid signatures, the person's then the unit's, and
``pdftotext`` the number where the placeholder was.
"""

from __future__ import annotations

import html
import itertools
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pyhanko.pdf_utils.generic import StreamObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader, PdfWriter

from config.errors import Invalid
from keys.ca import CertificateAuthority, create_ca, issue_signing, new_serial, pem
from keys.revocation import RevokedEntry, build_crl, crl_pem
from office.documents.pdf_fields import RIGHT_MARGIN
from office.documents.pdf_issue import issue_and_sign_as_unit, sign_as_person
from office.documents.pdf_signing import signature_status, simple_pdf
from tests.office.test_pdf_signing import desk_checking
from tests.support.keys import run_tool, tool_ok

UNIT_NAME = "Tỉnh uỷ Quảng Trị"
PERSON = "Nguyễn Thị Minh Hằng"
TITLE = "Phó Bí thư"
AUTHORITY = "T/M BAN THƯỜNG VỤ"
PARTY_NUMBER = "Số 05-NQ/TU"
STATE_NUMBER = "Số: 15/QĐ-UBND"
DATE_LINE = "Quảng Trị, ngày 07 tháng 12 năm 2026"
ISSUE = "Phát hành văn bản"
PARTY_DRAFT = [
    "ĐẢNG CỘNG SẢN VIỆT NAM",
    "TỈNH UỶ QUẢNG TRỊ",
    "Số …-NQ/TU",
    "Quảng Trị, ngày … tháng … năm …",
    "NGHỊ QUYẾT về công tác chuyển đổi số",
]
Signer = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]


def issue_person(authority: CertificateAuthority, name: str, title: str, username: str) -> Signer:
    """A person's signing certificate as ``keys issue-person`` makes it: P-256, CN the full
    name, title the position, O the unit, UID and OU the username, digitalSignature and
    contentCommitment."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, UNIT_NAME),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, username),
            x509.NameAttribute(NameOID.TITLE, title),
            x509.NameAttribute(NameOID.USER_ID, username),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    ca_key_id = x509.SubjectKeyIdentifier.from_public_key(authority.certificate.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(new_serial())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id), False
        )
        .sign(authority.key, hashes.SHA256())
    )
    return key, certificate


def state_draft(target: Path, pages: int = 1) -> Path:
    """A Decree 30 heading in two columns: the number under the agency, the place and date
    under the motto on the same line; then ``pages`` pages of text."""
    body = "".join(
        f"<p style='break-before: {'page' if page else 'auto'}'>Điều {page + 1}. "
        f"{html.escape('Nội dung quyết định về tổ chức hội nghị tổng kết. ' * 20)}</p>"
        for page in range(pages)
    )
    page = (
        "<!doctype html><html lang='vi'><meta charset='utf-8'><style>"
        "@page { size: A4; margin: 20mm 15mm 20mm 30mm } body { font: 13pt/1.4 'DejaVu Serif' }"
        "table { width: 100%; border-collapse: collapse; font-size: 11pt }"
        "td { text-align: center; vertical-align: top; width: 50% }"
        "</style><body><table>"
        "<tr><td>ỦY BAN NHÂN DÂN<br>TỈNH QUẢNG TRỊ</td>"
        "<td>CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM<br>Độc lập - Tự do - Hạnh phúc</td></tr>"
        "<tr><td>Số: …/QĐ-UBND</td><td><i>Quảng Trị, ngày … tháng … năm …</i></td></tr>"
        f"</table><p>QUYẾT ĐỊNH</p>{body}</body></html>"
    )
    from weasyprint import HTML

    HTML(string=page).write_pdf(target)
    return target


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("issue")


@pytest.fixture(scope="module")
def authority(scratch: Path) -> CertificateAuthority:
    return create_ca("Cơ quan chứng thực Tỉnh uỷ Quảng Trị", scratch / "ca", b"issue-test-ca")


@pytest.fixture(scope="module")
def ca_pem(authority: CertificateAuthority, scratch: Path) -> Path:
    path = scratch / "ca.pem"
    path.write_bytes(pem(authority.certificate))
    return path


@pytest.fixture(scope="module")
def person(authority: CertificateAuthority) -> Signer:
    return issue_person(authority, PERSON, TITLE, "hangntm")


@pytest.fixture(scope="module")
def unit(authority: CertificateAuthority) -> Signer:
    certificate, key = issue_signing(authority, "TU", UNIT_NAME, days=30)
    return key, certificate


def approve(
    source: Path,
    target: Path,
    person: Signer,
    authority: CertificateAuthority,
    name: str = PERSON,
    title: str = TITLE,
) -> Path:
    sign_as_person(
        source,
        target,
        *person,
        [authority.certificate],
        signer_name=name,
        title=title,
        authority_line=AUTHORITY,
        unit_name=UNIT_NAME,
    )
    return target


def issue(
    source: Path, target: Path, unit: Signer, authority: CertificateAuthority, number: str
) -> Path:
    issue_and_sign_as_unit(
        source,
        target,
        *unit,
        [authority.certificate],
        number_line=number,
        date_line=DATE_LINE,
        unit_name=UNIT_NAME,
        reason=ISSUE,
    )
    return target


@pytest.fixture(scope="module")
def party_draft(scratch: Path) -> Path:
    path = scratch / "nghi-quyet.pdf"
    simple_pdf(PARTY_DRAFT, path)
    return path


@pytest.fixture(scope="module")
def party_approved(
    party_draft: Path, person: Signer, authority: CertificateAuthority, scratch: Path
) -> Path:
    return approve(party_draft, scratch / "nghi-quyet-ky-duyet.pdf", person, authority)


@pytest.fixture(scope="module")
def party_issued(
    party_approved: Path, unit: Signer, authority: CertificateAuthority, scratch: Path
) -> Path:
    return issue(party_approved, scratch / "05-NQ-TU.pdf", unit, authority, PARTY_NUMBER)


@pytest.fixture(scope="module")
def state_issued(
    person: Signer, unit: Signer, authority: CertificateAuthority, scratch: Path
) -> Path:
    draft = state_draft(scratch / "quyet-dinh.pdf")
    approved = approve(draft, scratch / "quyet-dinh-ky-duyet.pdf", person, authority)
    return issue(approved, scratch / "15-QD-UBND.pdf", unit, authority, STATE_NUMBER)


def tool_ok_stdout(result: CompletedProcess[bytes]) -> str:
    """The tool's verdict, its standard output (standard error carries library warnings)."""
    tool_ok(result)
    return str(result.stdout.decode())


def test_pdfsig_finds_two_valid_signatures_the_persons_then_the_units(
    party_issued: Path, state_issued: Path
) -> None:
    for path in (party_issued, state_issued):
        report = tool_ok(run_tool("pdfsig", path))
        first, second = report.split("Signature #2:")
        assert "Signature #1:" in first and "Signature #3:" not in second, report
        assert f"Signer Certificate Common Name: {PERSON}" in first
        assert "Signer Certificate Common Name: TU" in second
        for part in (first, second):
            assert "Signature Validation: Signature is Valid." in part, report
            assert "Signature Type: ETSI.CAdES.detached" in part
            # poppler trusts only its NSS store, which does not hold our CA (and no certutil
            # is installed to make it one).
            assert "Certificate Validation: Certificate issuer isn't Trusted." in part
        assert "Not total document signed" in first
        assert "Total document signed" in second


def test_pyhanko_validate_judges_both_valid_and_the_issue_as_form_filling(
    party_issued: Path, state_issued: Path, ca_pem: Path
) -> None:
    pyhanko = (sys.executable, "-m", "pyhanko", "sign", "validate", "--trust", ca_pem)
    for path in (party_issued, state_issued):
        summary = tool_ok_stdout(run_tool(*pyhanko, "--trust-replace", path)).splitlines()
        assert len(summary) == 2, summary
        assert re.fullmatch(
            r"Signature1:\w+:INTACT:TRUSTED,EXTENDED_WITH_FORM_FILLING,ACCEPTABLE_MODIFICATIONS",
            summary[0],
        ), summary
        assert re.fullmatch(r"Signature2:\w+:INTACT:TRUSTED,UNTOUCHED", summary[1]), summary
        pretty = tool_ok_stdout(run_tool(*pyhanko, "--trust-replace", "--pretty-print", path))
        first, second = pretty.split("Field 2: Signature2")
        assert f"Common Name: {PERSON}" in first and f"Title: {TITLE}" in first
        assert "Common Name: TU" in second
        assert "All modifications relate to signing and form filling operations" in first
        assert "The signature covers the entire file." in second
        assert pretty.count("The signature is judged VALID.") == 2
        assert "INVALID" not in pretty


def words(path: Path, page: int = 1) -> list[tuple[str, float, float, float]]:
    """The words of ``page`` as ``pdftotext -bbox`` places them: text, left, top and bottom, in
    points from the top left corner."""
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>',
        tool_ok(run_tool("pdftotext", "-bbox", "-f", page, "-l", page, path, "-")),
    )
    return [(html.unescape(text), float(x), float(top), float(end)) for x, top, end, text in found]


def line_of(path: Path, first: str, then: str) -> tuple[float, float]:
    """Where the words ``first`` and ``then…`` are on page 1: the left of the first, its top."""
    found = words(path)
    for (text, x, top, _), (following, *_) in itertools.pairwise(found):
        if text == first and following.startswith(then):
            return x, top
    raise AssertionError(f"no {first} {then} in {found}")


def layout(path: Path) -> str:
    return tool_ok(run_tool("pdftotext", "-layout", "-enc", "UTF-8", path, "-"))


def test_pdftotext_reads_the_number_and_date_where_the_placeholders_were(
    party_draft: Path, party_issued: Path, state_issued: Path
) -> None:
    text = layout(party_issued)
    assert PARTY_NUMBER in text.splitlines() and DATE_LINE in text.splitlines(), text
    assert "…" not in text
    state = layout(state_issued)
    assert re.search(rf"{STATE_NUMBER} +{DATE_LINE}\n", state), state
    assert "…" not in state
    x, top = line_of(party_draft, "Số", "…-NQ/TU")
    assert line_of(party_issued, "Số", "05-NQ/TU") == pytest.approx((x, top), abs=1.5)
    x, top = line_of(party_draft, "Quảng", "Trị,")
    assert line_of(party_issued, "Quảng", "Trị,") == pytest.approx((x, top), abs=1.5)
    draft = state_issued.with_name("quyet-dinh.pdf")
    for first, draft_next, issued_next in (("Số:", "…/QĐ", "15/QĐ"), ("Quảng", "Trị,", "Trị,")):
        x, top = line_of(draft, first, draft_next)
        assert line_of(state_issued, first, issued_next) == pytest.approx((x, top), abs=1.5)


def report_heading(target: Path) -> Path:
    """The IT report's heading as its template lays it out (HD 36): Times New Roman, for which
    Liberation Serif stands in here and hands the Vietnamese letters it lacks to a fallback font
    (``S``, ``ố``, `` …-BC/TU``: one line in three runs); the date centred in the right column,
    shorter with its dots than once written."""
    page = (
        "<!doctype html><html lang='vi'><meta charset='utf-8'><style>"
        "@page { size: A4; margin: 20mm 15mm 20mm 30mm }"
        "body { font: 13pt/1.35 'Times New Roman', 'Liberation Serif', 'DejaVu Serif', serif }"
        "table { width: 100% } td { text-align: center; vertical-align: top } p { margin: 0 }"
        "</style><body><table><tr>"
        "<td style='width: 45%'><p>TỈNH UỶ QUẢNG TRỊ</p><p>*</p><p>Số …-BC/TU</p></td>"
        "<td><p><b><u>ĐẢNG CỘNG SẢN VIỆT NAM</u></b></p>"
        "<p><i>Quảng Trị, ngày … tháng … năm …</i></p></td>"
        "</tr></table><h1>BÁO CÁO</h1><p>Tình hình ứng dụng công nghệ thông tin</p></body></html>"
    )
    from weasyprint import HTML

    HTML(string=page).write_pdf(target)
    return target


def test_a_line_in_several_fonts_and_a_date_longer_than_its_dots_are_written_whole(
    unit: Signer, authority: CertificateAuthority, tmp_path: Path
) -> None:
    draft = report_heading(tmp_path / "bao-cao.pdf")
    issued = issue(draft, tmp_path / "14-BC-TU.pdf", unit, authority, "Số 14-BC/TU")
    text = layout(issued)
    assert text.count("Số 14-BC/TU") == 1 and text.count(DATE_LINE) == 1, text
    assert "…" not in text
    x, top = line_of(draft, "Số", "…-BC/TU")
    assert line_of(issued, "Số", "14-BC/TU") == pytest.approx((x, top), abs=1.5)
    # Drawn smaller rather than cut at the field's right edge, the right margin.
    right = float(PdfReader(issued).pages[0].mediabox.right) - RIGHT_MARGIN
    ends = re.findall(
        r'xMax="([\d.]+)" yMax="[\d.]+">(\d{4})</word>',
        tool_ok(run_tool("pdftotext", "-bbox", "-l", "1", issued, "-")),
    )
    assert [year for _end, year in ends] == ["2026"], ends
    assert float(ends[0][0]) <= right


def test_the_approved_draft_shows_its_placeholders_once_and_the_signers_block(
    party_approved: Path,
) -> None:
    text = layout(party_approved)
    assert text.count("Số …-NQ/TU") == 1 and text.count("ngày … tháng … năm …") == 1, text
    for line in (AUTHORITY, TITLE.upper(), PERSON, "Đã ký số"):
        assert line in text, text


def test_signature_status_lists_the_persons_then_the_units_signature(
    party_approved: Path, party_issued: Path, authority: CertificateAuthority
) -> None:
    status = signature_status(party_issued, [authority.certificate])
    assert (status.state, status.problem, status.reason) == ("valid", "", ISSUE)
    assert status.signer == f"{UNIT_NAME} (TU)" and status.covers_whole_file
    first, second = status.signatures
    assert (first.signer, first.role, first.state) == (
        f"{PERSON}, {TITLE} ({UNIT_NAME})",
        "person",
        "valid",
    )
    assert (second.signer, second.role, second.state) == (status.signer, "unit", "valid")
    assert first.signed_at is not None and second.signed_at is not None
    assert first.signed_at <= second.signed_at and second.serial == status.serial
    approved = signature_status(party_approved, [authority.certificate])
    assert approved.state == "valid" and [e.role for e in approved.signatures] == ["person"]


def test_a_draft_without_placeholders_gets_the_number_in_the_top_left_box(
    person: Signer, unit: Signer, authority: CertificateAuthority, tmp_path: Path
) -> None:
    draft = tmp_path / "cong-van.pdf"
    simple_pdf(["Kính gửi: các huyện uỷ", "Về việc chuẩn bị hội nghị"], draft)
    approved = approve(draft, tmp_path / "approved.pdf", person, authority)
    for source in (approved, draft):  # signed by the person first, or by no one (the old path)
        issued = issue(source, tmp_path / f"issued-{source.name}", unit, authority, PARTY_NUMBER)
        assert signature_status(issued, [authority.certificate]).state == "valid"
        lines = layout(issued).splitlines()
        assert lines[0].strip() == PARTY_NUMBER and lines[1].strip() == DATE_LINE, lines
        x, top = line_of(issued, "Số", "05-NQ/TU")
        assert x < 595 / 2 and top < 56.7  # the top margin, 20 mm, on the left
        assert line_of(issued, "Quảng", "Trị,")[1] < 56.7


def test_bytes_appended_after_issue_make_the_document_invalid(
    party_issued: Path, authority: CertificateAuthority, tmp_path: Path
) -> None:
    appended = tmp_path / "appended.pdf"
    appended.write_bytes(party_issued.read_bytes() + b"\n% sua sau khi ky\n")
    status = signature_status(appended, [authority.certificate])
    assert status.state == "invalid" and not status.covers_whole_file, status


def test_a_byte_changed_in_the_persons_revision_makes_both_signatures_invalid(
    party_issued: Path, authority: CertificateAuthority, tmp_path: Path
) -> None:
    data = bytearray(party_issued.read_bytes())
    data[data.index(b"WeasyPrint")] ^= 0x20  # the draft's producer: still a readable PDF
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(data)
    status = signature_status(tampered, [authority.certificate])
    assert (status.state, status.problem) == ("invalid", "tampered")
    assert [entry.problem for entry in status.signatures] == ["tampered", "tampered"]
    assert tool_ok(run_tool("pdfsig", tampered)).count("Digest Mismatch") == 2


def test_a_page_edited_after_the_persons_signature_is_caught_though_the_unit_signs_after(
    party_approved: Path, unit: Signer, authority: CertificateAuthority, tmp_path: Path
) -> None:
    with party_approved.open("rb") as handle:
        writer = IncrementalPdfFileWriter.from_reader(PdfFileReader(handle))
        writer.add_stream_to_page(
            0, writer.add_object(StreamObject(stream_data=b"0 0 m 100 100 l S"))
        )
        edited = tmp_path / "edited.pdf"
        with edited.open("wb") as output:
            writer.write(output)
    issued = issue(edited, tmp_path / "issued.pdf", unit, authority, PARTY_NUMBER)
    status = signature_status(issued, [authority.certificate])
    assert (status.state, status.problem) == ("invalid", "modified-after-signing")
    first, second = status.signatures
    assert (first.role, first.state, first.problem) == (
        "person",
        "invalid",
        "modified-after-signing",
    )
    assert (second.role, second.state) == ("unit", "valid")


def test_a_file_that_is_not_a_pdf_or_a_key_not_the_certificates_is_refused(
    person: Signer, unit: Signer, authority: CertificateAuthority, party_draft: Path, tmp_path: Path
) -> None:
    text = tmp_path / "cong-van.pdf"
    text.write_text("Đây không phải là tệp PDF\n", encoding="utf-8")
    target = tmp_path / "signed.pdf"
    for attempt in (
        lambda: approve(text, target, person, authority),
        lambda: issue(text, target, unit, authority, PARTY_NUMBER),
    ):
        with pytest.raises(Invalid) as refusal:
            attempt()
        assert refusal.value.code == "not-pdf" and "thiếu phần đầu %PDF-" in refusal.value.message
    with pytest.raises(Invalid) as refusal:
        approve(party_draft, target, (unit[0], person[1]), authority)
    assert refusal.value.code == "key-mismatch"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cong-van.pdf"]


def test_the_number_is_in_the_units_revision_and_the_persons_revision_is_kept_whole(
    party_approved: Path, party_issued: Path
) -> None:
    approved = party_approved.read_bytes()
    assert party_issued.read_bytes().startswith(approved)  # an incremental update
    values = {
        name: field.get("/V")
        for name, field in (PdfReader(party_issued).get_fields() or {}).items()
    }
    assert values["congvan_number"] == PARTY_NUMBER and values["congvan_date"] == DATE_LINE
    assert "congvan_number" in (PdfReader(party_approved).get_fields() or {})
    assert "05-NQ/TU" not in layout(party_approved)


def test_a_second_approver_signs_after_the_first_and_all_three_signatures_stay_valid(
    person: Signer, unit: Signer, authority: CertificateAuthority, tmp_path: Path
) -> None:
    draft = state_draft(tmp_path / "ba-trang.pdf", pages=3)
    first = approve(draft, tmp_path / "first.pdf", person, authority)
    deputy = issue_person(authority, "Lê Văn Bình", "Phó Chủ tịch", "binhlv")
    second = approve(
        first, tmp_path / "second.pdf", deputy, authority, "Lê Văn Bình", "Phó Chủ tịch"
    )
    issued = issue(second, tmp_path / "issued.pdf", unit, authority, STATE_NUMBER)
    status = signature_status(issued, [authority.certificate])
    assert status.state == "valid", status
    assert [(entry.role, entry.state) for entry in status.signatures] == [
        ("person", "valid"),
        ("person", "valid"),
        ("unit", "valid"),
    ]
    assert tool_ok(run_tool("pdfsig", issued)).count("Signature is Valid.") == 3
    last_page = tool_ok(run_tool("pdftotext", "-f", "3", "-l", "3", "-enc", "UTF-8", issued, "-"))
    assert PERSON in last_page and "Lê Văn Bình" in last_page and UNIT_NAME in last_page
    assert PERSON not in tool_ok(run_tool("pdftotext", "-l", "2", issued, "-"))
    # Under the text, one under the other: the first approver, the second, the unit's seal.
    placed = words(issued, page=3)
    text_bottom = max(end for text, _, _, end in placed if text == "kết.")
    tops = [min(top for text, _, top, _ in placed if text == word) for word in ("T/M", "Bình")]
    seal_top = min(top for text, _, top, _ in placed if text == "Ký")
    assert text_bottom < tops[0] < tops[1] < seal_top, (text_bottom, tops, seal_top)
    assert re.search(rf"{STATE_NUMBER} +{DATE_LINE}\n", layout(issued))


@hypothesis_settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_issuing_a_damaged_approved_document_refuses_it_or_signs_it_and_never_raises_else(
    party_approved: Path, unit: Signer, authority: CertificateAuthority, data: st.DataObject
) -> None:
    """``not-pdf`` or a signed file, nothing left behind on refusal; and the check of the
    result (or of the damaged file) says what it is without raising."""
    damaged = bytearray(party_approved.read_bytes())
    offset = data.draw(st.integers(0, len(damaged) - 1), label="offset")
    if data.draw(st.booleans(), label="truncate"):
        damaged = damaged[:offset]
    else:
        damaged[offset] ^= data.draw(st.integers(1, 255), label="xor")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "damaged.pdf"
        source.write_bytes(damaged)
        target = source.with_name("issued.pdf")
        try:
            issue(source, target, unit, authority, PARTY_NUMBER)
        except Invalid as refusal:
            assert refusal.code == "not-pdf"
            assert [child.name for child in source.parent.iterdir()] == [source.name]
            checked = source
        else:
            checked = target
        status = signature_status(checked, [authority.certificate])
    assert status.state in ("valid", "invalid", "unsigned")


def test_a_blank_page_whose_form_asks_viewers_for_appearances_gets_ours_only(
    person: Signer, unit: Signer, authority: CertificateAuthority, tmp_path: Path
) -> None:
    """A viewer told to redraw the fields would draw them with Helvetica, without Vietnamese."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.set_need_appearances_writer(True)
    draft = tmp_path / "blank.pdf"
    writer.write(draft)
    approved = approve(draft, tmp_path / "approved.pdf", person, authority)
    issued = issue(approved, tmp_path / "issued.pdf", unit, authority, STATE_NUMBER)
    assert signature_status(issued, [authority.certificate]).state == "valid"
    assert "/NeedAppearances" not in PdfReader(issued).trailer["/Root"]["/AcroForm"]
    assert layout(issued).splitlines()[:2] == [STATE_NUMBER, DATE_LINE]


async def test_the_persons_certificate_revoked_makes_the_issued_document_revoked(
    party_issued: Path, person: Signer, authority: CertificateAuthority, tmp_path: Path
) -> None:
    """The node checks every signature's certificate against the CRL, not only the unit's."""
    crl_path = tmp_path / "crl.pem"
    desk = desk_checking(authority, crl_path, tmp_path / "blobs")
    crl_path.write_bytes(crl_pem(build_crl(authority, [], valid_days=7)))
    assert (await desk.signature_of(party_issued)).state == "valid"
    serial = format(person[1].serial_number, "x")
    revoked = RevokedEntry(serial, datetime.now(UTC), "keyCompromise")
    fresh = tmp_path / "crl.new"
    fresh.write_bytes(crl_pem(build_crl(authority, [revoked], valid_days=7)))
    fresh.replace(crl_path)
    status = await desk.signature_of(party_issued)
    assert (status.state, status.problem) == ("revoked", "certificate-revoked")
    assert [(entry.role, entry.state) for entry in status.signatures] == [
        ("person", "revoked"),
        ("unit", "valid"),
    ]


def test_on_a_full_last_page_the_block_and_the_seal_go_to_the_bottom_right(
    person: Signer, unit: Signer, authority: CertificateAuthority, tmp_path: Path
) -> None:
    draft = tmp_path / "full.pdf"
    simple_pdf([f"Dòng {line} của văn bản" for line in range(1, 24)], draft)  # page 1, to its end
    approved = approve(draft, tmp_path / "approved.pdf", person, authority)
    issued = issue(approved, tmp_path / "issued.pdf", unit, authority, PARTY_NUMBER)
    last = PdfReader(issued).pages[-1]
    rects = {
        str(annotation["/T"]): [float(value) for value in annotation["/Rect"]]
        for annotation in (reference.get_object() for reference in last["/Annots"])
    }
    block, seal = rects["Signature1"], rects["Signature2"]
    assert 10 <= seal[1] < seal[3] < block[1] < 100, rects
