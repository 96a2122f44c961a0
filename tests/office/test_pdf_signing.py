"""Signed outgoing documents, checked by tools we did not write.

A throwaway provincial CA (``keys.ca``, as ``congvan keys ca-init`` makes it) issues a unit its
signing certificate; the unit signs a WeasyPrint document. ``pdfsig`` (poppler) and ``pyhanko
sign validate`` judge the result; pypdf and ``pdftotext`` read the Vietnamese text back. Then
every way a document can fail: tampered, edited after signing, signed by another CA or with an
expired certificate, unsigned, not a PDF at all, encrypted, truncated.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from config.blobs import BlobStore
from config.errors import Invalid
from config.settings import OfficeSettings
from keys.ca import CertificateAuthority, create_ca, issue_signing, new_serial, pem
from keys.revocation import RevocationChecker, RevokedEntry, build_crl, crl_pem
from office.documents.desk import DocumentDesk
from office.documents.pdf_signing import is_pdf, sign_pdf, signature_status, simple_pdf
from office.documents.pdf_text import extract_text
from office.documents.workdays import WorkingCalendar
from tests.support.keys import run_tool, tool_ok

CA_NAME = "Cơ quan chứng thực Tỉnh uỷ Quảng Trị"
UNIT_NAME = "Tỉnh uỷ Quảng Trị"
REASON = "Ký phát hành văn bản"
LOCATION = "Quảng Trị"
LINES = [
    "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Quảng Trị, ngày 28 tháng 11 năm 2026",
    "Về việc tổ chức hội nghị tổng kết công tác năm",
]

UnitSigner = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pdf")


@pytest.fixture(scope="module")
def authority(scratch: Path) -> CertificateAuthority:
    return create_ca(CA_NAME, scratch / "ca", b"pdf-test-passphrase")


@pytest.fixture(scope="module")
def ca_pem(authority: CertificateAuthority, scratch: Path) -> Path:
    path = scratch / "ca.pem"
    path.write_bytes(pem(authority.certificate))
    return path


@pytest.fixture(scope="module")
def unit(authority: CertificateAuthority) -> UnitSigner:
    certificate, key = issue_signing(authority, "TU", UNIT_NAME, days=30)
    return key, certificate


@pytest.fixture(scope="module")
def document(scratch: Path) -> Path:
    path = scratch / "van-ban.pdf"
    simple_pdf(LINES, path)
    return path


def sign_as(
    signer: UnitSigner, authority: CertificateAuthority, source: Path, target: Path
) -> Path:
    key, certificate = signer
    sign_pdf(
        source,
        target,
        key,
        certificate,
        [authority.certificate],
        reason=REASON,
        location=LOCATION,
        signer_name=UNIT_NAME,
    )
    return target


@pytest.fixture(scope="module")
def signed(unit: UnitSigner, authority: CertificateAuthority, document: Path) -> Path:
    return sign_as(unit, authority, document, document.with_name("van-ban-da-ky.pdf"))


def test_a_signed_document_is_valid_against_our_ca(
    signed: Path, authority: CertificateAuthority
) -> None:
    status = signature_status(signed, [authority.certificate])
    assert status.state == "valid", status
    assert status.signer == f"{UNIT_NAME} (TU)"
    assert status.reason == REASON
    assert status.covers_whole_file and status.problem == ""
    assert status.signed_at is not None
    assert abs(datetime.now(UTC) - status.signed_at) < timedelta(minutes=5)


def test_pdfsig_finds_the_signature_of_the_unit_valid(signed: Path) -> None:
    report = tool_ok(run_tool("pdfsig", signed))
    assert "Signature Validation: Signature is Valid." in report, report
    assert f"Signer full Distinguished Name: CN=TU,O={UNIT_NAME},C=VN" in report
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert "Total document signed" in report
    # poppler trusts only its NSS store, which does not hold our CA.
    assert "Certificate issuer isn't Trusted." in report


def test_pyhanko_validate_judges_it_intact_and_trusted_by_our_ca(
    signed: Path, ca_pem: Path
) -> None:
    pyhanko = (sys.executable, "-m", "pyhanko", "sign", "validate")
    result = run_tool(*pyhanko, "--trust", ca_pem, "--trust-replace", signed)
    tool_ok(result)
    # The verdict is the tool's standard output; its standard error carries the warnings of
    # the libraries beneath it (cryptography 51 deprecates DSA, which pyHanko imports).
    summary = result.stdout.decode()
    assert summary.strip().endswith(":INTACT:TRUSTED,UNTOUCHED"), summary
    pretty = tool_ok(
        run_tool(*pyhanko, "--pretty-print", "--trust", ca_pem, "--trust-replace", signed)
    )
    assert "The signature covers the entire file." in pretty
    assert "The signature is judged VALID." in pretty


def signature_dictionary(path: Path, field: str = "Signature1") -> Any:
    """The signature's ``/V`` dictionary as pypdf, not pyHanko, reads it."""
    fields = PdfReader(path).get_fields()
    assert fields is not None and field in fields, fields
    return fields[field]["/V"]


def test_the_reason_and_location_keep_their_vietnamese_in_the_signature(signed: Path) -> None:
    value = signature_dictionary(signed)
    assert (value["/Reason"], value["/Location"], value["/Name"]) == (REASON, LOCATION, UNIT_NAME)
    assert value["/SubFilter"] == "/ETSI.CAdES.detached"


def test_the_text_comes_back_in_vietnamese_from_pypdf_and_pdftotext(
    document: Path, signed: Path
) -> None:
    for path in (document, signed):
        assert extract_text(path).splitlines() == LINES
        text = tool_ok(run_tool("pdftotext", "-enc", "UTF-8", path, "-")).splitlines()
        assert text[: len(LINES)] == LINES


def test_the_stamp_on_page_one_names_the_signer(signed: Path) -> None:
    text = tool_ok(run_tool("pdftotext", "-enc", "UTF-8", signed, "-"))
    assert f"Ký bởi: {UNIT_NAME}" in text
    assert REASON in text


def test_extract_text_stops_at_the_limit(signed: Path) -> None:
    assert extract_text(signed, limit=20) == extract_text(signed)[:20]


def test_a_byte_flipped_in_the_signed_range_makes_the_document_invalid(
    signed: Path, authority: CertificateAuthority, tmp_path: Path
) -> None:
    data = bytearray(signed.read_bytes())
    data[data.index(b"WeasyPrint")] ^= 0x20  # the producer string: still a readable PDF
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(data)
    status = signature_status(tampered, [authority.certificate])
    assert (status.state, status.problem) == ("invalid", "tampered")
    assert "Signature Validation: Digest Mismatch." in run_tool("pdfsig", tampered).stdout.decode()


def test_an_edit_appended_after_signing_makes_the_document_invalid(
    signed: Path, authority: CertificateAuthority, tmp_path: Path
) -> None:
    writer = PdfWriter(signed, incremental=True)
    writer.add_metadata({"/Title": "Sửa sau khi ký"})
    edited = tmp_path / "edited.pdf"
    writer.write(edited)
    status = signature_status(edited, [authority.certificate])
    assert (status.state, status.problem) == ("invalid", "modified-after-signing")
    assert not status.covers_whole_file


def test_a_second_unit_may_countersign_and_both_signatures_stay_valid(
    signed: Path, authority: CertificateAuthority, tmp_path: Path
) -> None:
    certificate, key = issue_signing(authority, "HU-CAMLO", "Huyện uỷ Cam Lộ", days=30)
    twice = sign_as((key, certificate), authority, signed, tmp_path / "twice.pdf")
    status = signature_status(twice, [authority.certificate])
    assert (status.state, status.signer) == ("valid", "Huyện uỷ Cam Lộ (HU-CAMLO)")
    report = tool_ok(run_tool("pdfsig", twice))
    assert report.count("Signature Validation: Signature is Valid.") == 2, report


def test_an_unsigned_pdf_is_unsigned(document: Path, authority: CertificateAuthority) -> None:
    status = signature_status(document, [authority.certificate])
    assert (status.state, status.problem, status.signer) == ("unsigned", "no-signature", "")


def test_a_signature_by_a_rogue_ca_of_the_same_name_is_untrusted(
    document: Path, authority: CertificateAuthority, tmp_path: Path
) -> None:
    rogue = create_ca(CA_NAME, tmp_path / "rogue", b"rogue-ca-passphrase")
    assert rogue.certificate.subject == authority.certificate.subject
    certificate, key = issue_signing(rogue, "TU", UNIT_NAME, days=30)
    forged = sign_as((key, certificate), rogue, document, tmp_path / "forged.pdf")
    status = signature_status(forged, [authority.certificate])
    assert (status.state, status.problem) == ("untrusted", "unknown-issuer")
    assert status.covers_whole_file


def test_a_signature_by_our_unit_with_an_expired_certificate_is_untrusted(
    document: Path, unit: UnitSigner, authority: CertificateAuthority, tmp_path: Path
) -> None:
    """B-B has no time stamp: nothing proves the document was signed while the certificate
    was valid, so it is judged at today's date."""
    current = unit[1]
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(current.subject)
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(new_serial())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now - timedelta(days=1))
    )
    for extension in current.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    expired = builder.sign(authority.key, hashes.SHA256())
    signed_late = sign_as((key, expired), authority, document, tmp_path / "late.pdf")
    status = signature_status(signed_late, [authority.certificate])
    assert (status.state, status.problem) == ("untrusted", "certificate-expired")


def test_a_key_that_is_not_the_certificates_is_refused_before_signing(
    document: Path, unit: UnitSigner, authority: CertificateAuthority, tmp_path: Path
) -> None:
    other_key = ec.generate_private_key(ec.SECP256R1())
    target = tmp_path / "mismatch.pdf"
    with pytest.raises(Invalid) as refusal:
        sign_as((other_key, unit[1]), authority, document, target)
    assert refusal.value.code == "key-mismatch"
    assert not target.exists()


def refused_as_not_pdf(source: Path, unit: UnitSigner, authority: CertificateAuthority) -> str:
    target = source.with_name("signed-" + source.name)
    with pytest.raises(Invalid) as refusal:
        sign_as(unit, authority, source, target)
    assert refusal.value.code == "not-pdf"
    assert not target.exists()
    assert [path.name for path in source.parent.iterdir()] == [source.name], "a temp file stayed"
    assert not is_pdf(source)
    return refusal.value.message


def test_a_text_file_named_pdf_is_refused(
    unit: UnitSigner, authority: CertificateAuthority, tmp_path: Path
) -> None:
    source = tmp_path / "cong-van.pdf"
    source.write_text("Đây không phải là tệp PDF\n", encoding="utf-8")
    assert "không phải là PDF" in refused_as_not_pdf(source, unit, authority)
    assert extract_text(source) == ""
    assert signature_status(source, [authority.certificate]).state == "invalid"


def test_an_encrypted_pdf_is_refused(
    document: Path, unit: UnitSigner, authority: CertificateAuthority, tmp_path: Path
) -> None:
    writer = PdfWriter(clone_from=document)
    writer.encrypt("mat-khau", algorithm="AES-256")
    source = tmp_path / "encrypted.pdf"
    writer.write(source)
    assert "mã hoá" in refused_as_not_pdf(source, unit, authority)


def test_a_truncated_pdf_is_refused_and_its_signature_is_invalid(
    signed: Path, unit: UnitSigner, authority: CertificateAuthority, tmp_path: Path
) -> None:
    source = tmp_path / "truncated.pdf"
    source.write_bytes(signed.read_bytes()[:-200])
    refused_as_not_pdf(source, unit, authority)
    status = signature_status(source, [authority.certificate])
    assert (status.state, status.problem) == ("invalid", "damaged")


def test_a_weasyprint_document_is_a_pdf(document: Path) -> None:
    assert is_pdf(document)
    assert document.read_bytes().startswith(b"%PDF-")


async def test_signing_and_checking_run_in_a_worker_thread(
    document: Path, unit: UnitSigner, authority: CertificateAuthority, tmp_path: Path
) -> None:
    """pyHanko runs its own event loop: the functions must not be called on the node's loop."""
    target = tmp_path / "from-thread.pdf"
    await asyncio.to_thread(sign_as, unit, authority, document, target)
    status = await asyncio.to_thread(signature_status, target, [authority.certificate])
    assert status.state == "valid"


@hypothesis_settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_a_damaged_signed_document_never_raises_and_is_valid_only_if_the_signed_bytes_are_intact(
    signed: Path, unit: UnitSigner, authority: CertificateAuthority, data: st.DataObject
) -> None:
    """Also: ``sign_pdf`` takes the file or refuses it as ``not-pdf``, always when ``is_pdf``
    said no, and leaves nothing behind when it refuses."""
    original = signed.read_bytes()
    _, first_end, second_start, _ = signature_dictionary(signed)["/ByteRange"]
    damaged = bytearray(original)
    offset = data.draw(st.integers(0, len(original) - 1), label="offset")
    if data.draw(st.booleans(), label="truncate"):
        damaged = damaged[:offset]
    else:
        damaged[offset] ^= data.draw(st.integers(1, 255), label="xor")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "damaged.pdf"
        path.write_bytes(damaged)
        status = signature_status(path, [authority.certificate])
        extract_text(path)
        looks_like_pdf = is_pdf(path)
        try:
            sign_as(unit, authority, path, path.with_name("resigned.pdf"))
        except Invalid as refusal:
            assert refusal.code == "not-pdf"
            assert [child.name for child in path.parent.iterdir()] == [path.name]
        else:
            assert looks_like_pdf
    assert status.state in ("invalid", "unsigned", "valid")
    if status.state == "valid":  # only the padding after the signature value may change
        assert len(damaged) == len(original) and first_end < offset < second_start


def desk_checking(authority: CertificateAuthority, crl_path: Path, blobs: Path) -> DocumentDesk:
    """A document desk that checks signatures against ``authority`` and the CRL at
    ``crl_path``: the checks of a received PDF, without a node around them."""
    return DocumentDesk(
        sessions=None,  # type: ignore[arg-type]  # signature_of reads no database
        blobs=BlobStore(blobs),
        calendar=WorkingCalendar.vietnam(),
        settings=OfficeSettings(),
        trust_roots=(authority.certificate,),
        revocation=RevocationChecker(authority.certificate, crl_path),
    )


async def test_a_signature_by_a_revoked_certificate_is_not_valid(
    authority: CertificateAuthority, document: Path, tmp_path: Path
) -> None:
    signer = issue_signing(authority, "BTC", "Ban Tổ chức Tỉnh uỷ", days=30)
    target = await asyncio.to_thread(
        sign_as, (signer[1], signer[0]), authority, document, tmp_path / "btc.pdf"
    )
    crl_path = tmp_path / "crl.pem"
    desk = desk_checking(authority, crl_path, tmp_path / "blobs")

    status = await desk.signature_of(target)
    assert (status.state, status.problem) == ("untrusted", "revocation-unknown")

    crl_path.write_bytes(crl_pem(build_crl(authority, [], valid_days=7)))
    assert (await desk.signature_of(target)).state == "valid"

    revoked = RevokedEntry(format(signer[0].serial_number, "x"), datetime.now(UTC), "keyCompromise")
    fresh = tmp_path / "crl.new"
    fresh.write_bytes(crl_pem(build_crl(authority, [revoked], valid_days=7)))
    fresh.replace(crl_path)
    status = await desk.signature_of(target)
    assert (status.state, status.problem) == ("revoked", "certificate-revoked")
    assert "Ban Tổ chức" in status.signer
