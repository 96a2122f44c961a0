"""Small secrets at rest (TOTP seeds): AES-256-GCM under a key derived from the node passphrase.

A copy of the database alone does not give away anyone's second factor. The key is derived
once per process (scrypt), bound to the node's name, and each sealed value to its purpose. It
is derived at first use, not when the box is made: scrypt takes 32 MiB for a moment, and a node
that only exchanges dispatches should not carry that peak.
"""

from __future__ import annotations

import base64
import os
from functools import cached_property

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from config.errors import Invalid

VERSION = "v1:"
NONCE_BYTES = 12


class SecretBox:
    def __init__(self, passphrase: bytes, node_name: str) -> None:
        self._passphrase = passphrase
        self._node_name = node_name

    @cached_property
    def _aead(self) -> AESGCM:
        salt = f"congvan-seal:{self._node_name}".encode()
        kdf = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1)
        return AESGCM(kdf.derive(self._passphrase))

    def seal(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())
        return VERSION + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str, purpose: str) -> str:
        if not sealed.startswith(VERSION):
            raise Invalid("sealed secret of an unknown version", code="bad-seal")
        raw = base64.b64decode(sealed[len(VERSION) :])
        try:
            return self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode()
            ).decode()
        except InvalidTag as error:
            raise Invalid(
                "cannot open a sealed secret: wrong node passphrase or altered database",
                code="bad-seal",
            ) from error
