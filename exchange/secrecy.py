"""How secret a dispatch may be to leave this node, or to be taken in from another one.

The 2018 Law on Protection of State Secrets (Luật Bảo vệ bí mật nhà nước, 29/2018/QH14) Art. 5
forbids transmitting a state secret over information or telecommunication means other than as
the law on cipher (cơ yếu) allows (clause 6), and drafting or keeping one on a computer joined
to a network unless the cipher law allows it (clause 5). congvan's own encryption is not the
Government Cipher Committee's, so a secret travels on paper, by the rules for secret documents
(Art. 15 of the Law, Decree 26/2020/NĐ-CP); the network carries at most what the node's
``[office] max_secrecy_on_network`` allows (0 by default: only Không mật).

Two checks, at the two ends of every dispatch:

- :meth:`SecrecyPolicy.check_release`, at the one point where the outbox seals a dispatch for
  another node, whatever made it (an issued document, a resent one, a forwarded one, a mail, a
  report): its declared level (its metadata's ``secrecy``), and what the layers above know of
  its files (a file of a secret document, even inside a mail), must be within the limit. Units
  this node hosts are not the network: what goes only to them is not checked.
- :meth:`SecrecyPolicy.check_arrival`, on a dispatch from another node once it is opened: a
  declared level above this node's own limit is refused (``secrecy-not-allowed``) with a signed
  refusal receipt, so a misconfigured sender cannot push secrets onto the network unseen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from config.errors import Forbidden, PeerRefused
from exchange import texts
from exchange.envelope import Attachment, Header

#: The refusal code, on both sides: the outbox's refusal to seal, the receiver's receipt.
SECRECY_NOT_ALLOWED = "secrecy-not-allowed"
#: Độ mật: Không mật, Mật, Tối mật, Tuyệt mật.
LEVELS = (0, 1, 2, 3)
HIGHEST = max(LEVELS)

#: What a layer above knows of files the exchange carries blind: the highest secrecy level any
#: of them holds (a secret document's file, a mail with one attached), or 0.
FilesLevel = Callable[[Sequence[Attachment]], Awaitable[int]]


def declared_secrecy(value: object) -> int:
    """A dispatch's declared level (its metadata's ``secrecy``), failing closed: a level that
    cannot be read is taken as the highest, never as "Không mật"; a dispatch that declares
    none declares no secret."""
    if value is None:
        return 0
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value in LEVELS:
        return value
    return HIGHEST


class SecrecyPolicy:
    """One node's limit, and the checks the outbox and the inbox make with it."""

    def __init__(self, max_on_network: int, node: str) -> None:
        self.max_on_network = max_on_network
        self.node = node
        self._files_levels: list[FilesLevel] = []

    def watch_files(self, level: FilesLevel) -> None:
        """Let a layer above say how secret the files of a dispatch are (the office: the
        files of its secret documents, by content)."""
        self._files_levels.append(level)

    def allows(self, level: int) -> bool:
        return level <= self.max_on_network

    async def level_of(self, metadata: Mapping[str, Any], files: Sequence[Attachment]) -> int:
        level = declared_secrecy(metadata.get("secrecy"))
        for files_level in self._files_levels:
            if level >= HIGHEST:
                break
            level = max(level, await files_level(files))
        return level

    async def check_release(
        self, metadata: Mapping[str, Any], files: Sequence[Attachment], network_units: list[str]
    ) -> None:
        """Refuse (``Forbidden``, ``secrecy-not-allowed``) a dispatch to ``network_units``
        (recipients hosted by other nodes) that is more secret than the network may carry."""
        if not network_units:
            return
        level = await self.level_of(metadata, files)
        if not self.allows(level):
            raise Forbidden(
                texts.NOT_ON_NETWORK(
                    level=texts.SECRECY_NAMES[level],
                    limit=texts.SECRECY_NAMES[self.max_on_network],
                    units=", ".join(network_units),
                ),
                code=SECRECY_NOT_ALLOWED,
            )

    def check_arrival(self, header: Header, metadata: Mapping[str, Any]) -> None:
        """Refuse (``PeerRefused``, ``secrecy-not-allowed``) an opened dispatch from another
        node whose declared level is above this node's limit. One this node sealed for a unit
        it hosts never crossed the network."""
        if header.node == self.node:
            return
        level = declared_secrecy(metadata.get("secrecy"))
        if not self.allows(level):
            raise PeerRefused(
                texts.REFUSED_ON_ARRIVAL(
                    level=texts.SECRECY_NAMES[level],
                    limit=texts.SECRECY_NAMES[self.max_on_network],
                ),
                code=SECRECY_NOT_ALLOWED,
            )
