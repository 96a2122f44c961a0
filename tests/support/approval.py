"""Signing people for tests: a leader of a unit with signing authority and their own key from
the demo network's CA (the province's node, ``TU``), activated with a PIN; and a draft taken
through the review chain to ``approved`` the way the pages do it, so that the clerk can issue it.

Everything runs the product's own functions in-process (the CA's, the node's, the chain's):
`congvan keys issue-person` in a subprocess is what ``tests/keys/test_person_keys.py`` tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from config.database import open_database
from config.settings import load_settings
from keys import accounts, certificates, pinbox, signers
from keys.keystore import node_passphrase
from keys.models import User
from keys.signin import StaffMember, staff_member
from office.documents import approval, review
from office.documents.models import Document
from office.node.app import RunningNode
from tests.support.web import StaffAccount, new_account

PIN = "246813"
SIGNER_NAME = "Nguyễn Văn Hùng"
SIGNER_TITLE = "Phó Bí thư"
#: The demo network's CA: the province's node.
CA_NODE = "TU"


@dataclass(frozen=True)
class Signer:
    account: StaffAccount
    member: StaffMember


async def member_of(node: RunningNode, username: str) -> StaffMember:
    async with node.sessions() as session:
        user_id = await session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        found = await staff_member(session, user_id)
    assert found is not None
    return found


async def install_signing_key(
    node: RunningNode, account: StaffAccount, *, full_name: str, title: str
) -> str:
    """Issue ``account`` a person certificate on the CA and install it, sealed, on ``node``, as
    `keys issue-person` and `keys install-person` do; the answer is its activation code."""
    ca_settings = load_settings(node.settings.node_dir.parent / CA_NODE, {})
    authority = certificates.open_ca(ca_settings, node_passphrase(ca_settings))
    key = ec.generate_private_key(ec.SECP256R1())
    code = pinbox.new_activation_code()
    sealed = pinbox.seal_key(key, pinbox.normal_code(code))
    async with (
        open_database(ca_settings) as ca_sessions,
        ca_sessions() as session,
        session.begin(),
    ):
        certificate, _info = await certificates.issue_person(
            session,
            ca_settings,
            authority,
            key,
            account.username,
            account.unit,
            full_name,
            title,
        )
    async with node.sessions() as session, session.begin():
        await signers.install_person_key(
            session, certificate, sealed, authority.certificate, node.settings.node.units
        )
    return code


async def give_signing_key(
    node: RunningNode, account: StaffAccount, *, full_name: str, title: str, pin: str = PIN
) -> None:
    """An installed key, activated with ``pin`` as the signing-key page does."""
    code = await install_signing_key(node, account, full_name=full_name, title=title)
    member = await member_of(node, account.username)
    await signers.activate_person_key(node.sessions, member.id, code, pin, datetime.now(UTC))


async def new_signer(
    node: RunningNode,
    *,
    full_name: str = SIGNER_NAME,
    title: str = SIGNER_TITLE,
    pin: str = PIN,
) -> Signer:
    """A leader of the node's first unit who may sign, with an activated key."""
    account = await new_account(node, role="leader", clearance=3, full_name=full_name)
    async with node.sessions() as session, session.begin():
        await accounts.set_duties(session, account.username, title=title, may_sign=True)
    await give_signing_key(node, account, full_name=full_name, title=title, pin=pin)
    return Signer(account, await member_of(node, account.username))


async def approve(node: RunningNode, document_id: int, signer: StaffMember, pin: str = PIN) -> None:
    """Submit the draft to ``signer`` (as a clerk of its unit may) and approve it with their
    PIN, as the pages' two steps do."""
    desk = node.desk
    assert desk is not None
    async with node.sessions() as session:
        document = await session.get(Document, document_id)
        assert document is not None
        clerk_id = await session.scalar(
            select(User.id).where(
                User.unit_code == document.unit_code, User.role == "clerk", User.disabled.is_(False)
            )
        )
        assert clerk_id is not None, "the unit needs a clerk to submit the draft"
        clerk = await staff_member(session, clerk_id)
        assert clerk is not None
    async with node.sessions() as session, session.begin():
        submitted = await review.submit(
            session,
            clerk,
            document_id,
            document.version,
            f"{review.TO_SIGN}:{signer.id}",
            "",
            desk.now(),
        )
        version = submitted.version
    signed = await approval.sign(desk, signer, document_id, version, "own", "", pin)
    async with node.sessions() as session, session.begin():
        await approval.record(session, desk, signer, signed, "")
