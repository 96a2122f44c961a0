"""Small secrets at rest (TOTP seeds): AES-256-GCM under a key derived from the node passphrase.

A copy of the database alone does not give away anyone's second factor. The key is derived
once per process (scrypt), bound to the node's name, and each sealed value to its purpose.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from config.errors import Invalid

VERSION = "v1:"
NONCE_BYTES = 12


class SecretBox:
    def __init__(self, passphrase: bytes, node_name: str) -> None:
        kdf = Scrypt(salt=f"congvan-seal:{node_name}".encode(), length=32, n=2**15, r=8, p=1)
        self._aead = AESGCM(kdf.derive(passphrase))

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
