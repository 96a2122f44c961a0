"""The person bundle: how a signing person's key travels from the CA to the node that hosts them.

``congvan keys issue-person`` writes it, ``congvan keys install-person`` reads it. It is text, in
this order::

    -----BEGIN CERTIFICATE-----          the person's certificate
    -----BEGIN CERTIFICATE-----          the CA's
    -----BEGIN CONGVAN SEALED SIGNING KEY-----
                                         the private key sealed under the activation code

so ``openssl x509 -in FILE`` and ``openssl verify -CAfile ca.pem FILE`` read the person's
certificate. It needs no encryption of its own: the certificates are public and the key is
sealed (:mod:`keys.pinbox`) under a code that travels apart from the file, and stays sealed
under it in the node's database until the person activates it. Mode 0600 all the same.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from config.errors import Invalid
from config.files import write_secret
from keys.ca import pem

SEALED_LABEL = "CONGVAN SEALED SIGNING KEY"
#: A bundle is two certificates and a key of a few hundred bytes.
SIZE_LIMIT = 64 * 1024
_SEALED = re.compile(
    rb"-----BEGIN "
    + SEALED_LABEL.encode()
    + rb"-----\r?\n(.+?)-----END "
    + SEALED_LABEL.encode()
    + rb"-----",
    re.DOTALL,
)


@dataclass(frozen=True)
class PersonBundle:
    certificate: x509.Certificate
    ca_certificate: x509.Certificate
    sealed_key: bytes


def write_person_bundle(out: Path, bundle: PersonBundle) -> None:
    encoded = base64.encodebytes(bundle.sealed_key).decode("ascii")
    armoured = f"-----BEGIN {SEALED_LABEL}-----\n{encoded}-----END {SEALED_LABEL}-----\n"
    write_secret(
        out, pem(bundle.certificate) + pem(bundle.ca_certificate) + armoured.encode("ascii")
    )


def read_person_bundle(source: Path) -> PersonBundle:
    """The bundle in ``source``, read but not trusted yet: the installer checks it."""
    try:
        with source.open("rb") as reader:
            data = reader.read(SIZE_LIMIT + 1)
    except OSError as error:
        raise Invalid(f"cannot read {source}: {error.strerror}", code="no-bundle") from error
    sealed = _SEALED.search(data)
    try:
        if len(data) > SIZE_LIMIT or sealed is None:
            raise ValueError("no sealed key")
        person, ca = x509.load_pem_x509_certificates(data[: sealed.start()])
        return PersonBundle(person, ca, base64.b64decode(sealed.group(1)))
    except (ValueError, binascii.Error) as error:
        raise Invalid(
            f"{source} is not a person bundle from `congvan keys issue-person`",
            code="not-a-bundle",
        ) from error
