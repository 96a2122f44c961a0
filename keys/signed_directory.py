"""The signed directory as a node reads it: who hosts which unit, where each node listens, and
the current certificates, all vouched for by the CA's signature.

A node refuses to send or accept on a directory it cannot trust (bad signature) or that is past
its ``next_update`` (``stale-directory``): fail closed, as with the CRL. The file is re-read
when it is replaced, so a refresh takes effect without a restart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from config.errors import NotFound, PeerRefused
from keys.directory import SIGNATURE_SUFFIX
from keys.signatures import signature_holds


@dataclass(frozen=True)
class DirectoryUnit:
    code: str
    name: str
    node: str
    mail_domain: str
    certificates: dict[str, str]
    kind: str = ""
    parent: str | None = None

    def certificate(self, use: str) -> x509.Certificate:
        try:
            return x509.load_pem_x509_certificate(self.certificates[use].encode("ascii"))
        except KeyError:
            raise NotFound(
                f"đơn vị {self.code} chưa có chứng thư {use}", code="no-certificate"
            ) from None


@dataclass(frozen=True)
class DirectoryNode:
    name: str
    host: str
    peer_url: str
    pull: bool
    certificates: dict[str, str]

    def certificate(self) -> x509.Certificate:
        """The node's current TLS certificate: it signs the headers of what the node sends."""
        try:
            return x509.load_pem_x509_certificate(self.certificates["tls"].encode("ascii"))
        except KeyError:
            raise NotFound(f"nút {self.name} chưa có chứng thư", code="no-certificate") from None


class SignedDirectory:
    def __init__(self, ca_certificate: x509.Certificate, path: Path) -> None:
        self._ca = ca_certificate
        self._path = path
        self._version: tuple[int, int] | None = None
        self._document: dict[str, Any] = {}
        #: The units by code, built once per version of the file: a hub with hundreds of
        #: communes looks a unit up on every request.
        self._units: dict[str, DirectoryUnit] = {}
        #: The units by mail domain (lower case), built with ``_units``: every mail address
        #: the gateway checks is looked up by its domain.
        self._by_domain: dict[str, DirectoryUnit] = {}

    def _current(self) -> dict[str, Any]:
        try:
            status = self._path.stat()
        except FileNotFoundError as error:
            raise PeerRefused("chưa có danh bạ đã ký", code="stale-directory") from error
        version = (status.st_ino, status.st_mtime_ns)
        if version != self._version:
            data = self._path.read_bytes()
            signature_path = self._path.with_name(self._path.name + SIGNATURE_SUFFIX)
            if not signature_holds(self._ca, signature_path.read_bytes(), data):
                raise PeerRefused("danh bạ không có chữ ký đúng của CA", code="stale-directory")
            document = json.loads(data)
            self._units = {
                entry["code"]: DirectoryUnit(
                    entry["code"],
                    entry["name"],
                    entry["node"],
                    entry["mail_domain"],
                    dict(entry.get("certificates", {})),
                    entry.get("kind", ""),
                    entry.get("parent"),
                )
                for entry in document["units"]
            }
            self._by_domain = {}
            for unit in self._units.values():
                self._by_domain.setdefault(unit.mail_domain.lower(), unit)
            self._document, self._version = document, version
        next_update = datetime.fromisoformat(self._document["next_update"])
        if next_update < datetime.now(UTC):
            raise PeerRefused("danh bạ đã quá hạn cập nhật", code="stale-directory")
        return self._document

    def unit(self, code: str) -> DirectoryUnit:
        self._current()
        found = self._units.get(code)
        if found is None:
            raise NotFound(f"đơn vị {code} không có trong danh bạ", code="unknown-unit")
        return found

    def units(self) -> list[DirectoryUnit]:
        """Every unit of the network, as the directory lists them."""
        self._current()
        return list(self._units.values())

    def unit_with_mail_domain(self, domain: str) -> DirectoryUnit | None:
        """The unit whose mail domain is ``domain`` (lower case); None if no unit's is."""
        self._current()
        return self._by_domain.get(domain)

    def node(self, name: str) -> DirectoryNode:
        for entry in self._current()["nodes"]:
            if entry["name"] == name:
                return DirectoryNode(
                    entry["name"],
                    entry["host"],
                    entry["peer_url"],
                    bool(entry.get("pull", False)),
                    dict(entry["certificates"]),
                )
        raise NotFound(f"nút {name} không có trong danh bạ", code="unknown-node")

    def hub_name(self) -> str | None:
        """The node that stores and forwards for the others (the one that publishes this)."""
        hub = self._current().get("hub")
        return str(hub) if hub else None
