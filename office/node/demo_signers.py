"""The demo's signing leaders: each node's leader gets their own signing key from the demo's CA
(as `congvan keys issue-person` and `keys install-person` give one), activated with a PIN that
``demo.json`` records as ``signing_pin``, so that a draft can be approved and issued in the demo
at once. A real leader activates their key themselves, on the signing-key page, with the code
the CA hands them; nobody else ever knows their PIN.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from config.database import open_database
from config.settings import Settings
from keys import accounts, certificates, pinbox, signers
from keys.keystore import node_passphrase

#: Digits only, as a PIN pad would take it.
PIN_DIGITS = 6


async def give_leaders_signing_keys(
    province: Settings, settings_by_node: dict[str, Settings], created: list[dict[str, Any]]
) -> None:
    """Issue, install and activate a signing key for every leader in ``created``, recording
    their PIN on their entry."""
    authority = certificates.open_ca(province, node_passphrase(province))
    for account in created:
        if account["role"] != "leader":
            continue
        key = ec.generate_private_key(ec.SECP256R1())
        code = pinbox.new_activation_code()
        sealed = pinbox.seal_key(key, pinbox.normal_code(code))
        async with open_database(province) as sessions, sessions() as session, session.begin():
            certificate, _info = await certificates.issue_person(
                session,
                province,
                authority,
                key,
                account["username"],
                account["unit"],
                account["full_name"],
                account["title"],
            )
        node = settings_by_node[account["node"]]
        async with open_database(node) as sessions:
            async with sessions() as session, session.begin():
                info = await signers.install_person_key(
                    session, certificate, sealed, authority.certificate, node.node.units
                )
                user_id = await accounts.hosted_user_id(session, info.username, node.node.units)
            assert user_id is not None  # the account was made on this node just before
            pin = "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))
            await signers.activate_person_key(sessions, user_id, code, pin, datetime.now(UTC))
        account["signing_pin"] = pin
