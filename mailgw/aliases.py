"""Aliases: extra addresses the admin gives a user, who may send as them and receives mail to them.

An alias lives in the mail domain of a unit this node hosts (mail to it is delivered here), and
is nobody's own address and nobody else's alias. The hosted domains come from the units table,
which holds every unit this node hosts (its accounts belong to them).

Functions take an open session; the caller owns the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import Conflict, Invalid, NotFound
from keys import accounts, directory
from keys.models import User
from mailgw import refusals
from mailgw.addresses import normalise, split
from mailgw.models import MailAlias

#: The part before the ``@``: what a username may be, one character or more.
LOCAL_PART = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Alias:
    address: str
    username: str
    unit: str
    created_at: datetime


async def hosted_domains(session: AsyncSession, hosted_units: Collection[str]) -> dict[str, str]:
    """Mail domain -> unit code, for the units this node hosts."""
    return {
        entry.mail_domain.lower(): entry.code
        for entry in await directory.list_units(session)
        if entry.code in hosted_units
    }


async def _hosted_unit_of(
    session: AsyncSession, address: str, hosted_units: Collection[str]
) -> str:
    """The hosted unit whose mail domain ``address`` is in; refused otherwise."""
    local, domain = split(address)
    if not local or not domain or not LOCAL_PART.fullmatch(local):
        raise Invalid(refusals.ALIAS_BAD_ADDRESS(address=address), code="bad-address")
    domains = await hosted_domains(session, hosted_units)
    unit = domains.get(domain)
    if unit is None:
        known = ", ".join(sorted(domains)) or "-"
        raise Invalid(
            refusals.ALIAS_FOREIGN_DOMAIN(address=address, known=known), code="foreign-domain"
        )
    return unit


async def add_alias(
    session: AsyncSession, address: str, username: str, hosted_units: Collection[str]
) -> Alias:
    """Give ``username`` the extra address ``address``."""
    wanted = normalise(address)
    unit = await _hosted_unit_of(session, wanted, hosted_units)
    user_id = await accounts.hosted_user_id(session, username, hosted_units)
    if user_id is None:
        raise NotFound(refusals.ALIAS_UNKNOWN_USER(username=username), code="unknown-user")
    local, _domain = split(wanted)
    owner = await session.scalar(
        select(User.username).where(User.username == local, User.unit_code == unit)
    )
    if owner is not None:
        raise Conflict(
            refusals.ALIAS_OWN_ADDRESS(address=wanted, owner=owner), code="address-taken"
        )
    aliased = await session.scalar(
        select(User.username)
        .join(MailAlias, MailAlias.user_id == User.id)
        .where(MailAlias.address == wanted)
    )
    if aliased is not None:
        raise Conflict(refusals.ALIAS_TAKEN(address=wanted, owner=aliased), code="address-taken")
    alias = MailAlias(address=wanted, user_id=user_id)
    session.add(alias)
    try:
        await session.flush()
    except IntegrityError as error:  # a concurrent add of the same address
        raise Conflict(refusals.ALIAS_JUST_TAKEN(address=wanted), code="address-taken") from error
    return Alias(wanted, username, unit, alias.created_at)


async def remove_alias(session: AsyncSession, address: str) -> str:
    """Take the alias ``address`` away; returns whose it was."""
    wanted = normalise(address)
    owner = await session.scalar(
        select(User.username)
        .join(MailAlias, MailAlias.user_id == User.id)
        .where(MailAlias.address == wanted)
    )
    if owner is None:
        raise NotFound(refusals.ALIAS_UNKNOWN(address=wanted), code="unknown-alias")
    await session.execute(delete(MailAlias).where(MailAlias.address == wanted))
    return owner


async def list_aliases(session: AsyncSession) -> list[Alias]:
    """Every alias, by address."""
    rows = await session.execute(
        select(MailAlias.address, User.username, User.unit_code, MailAlias.created_at)
        .join(User, MailAlias.user_id == User.id)
        .order_by(MailAlias.address)
    )
    return [Alias(*row) for row in rows.tuples()]
