"""Recording a refusal: the admin's view of trouble on the WAN (who was refused, why) and a
link in the evidence chain, written in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from config.errors import PeerRefused
from exchange import evidence
from exchange.models import Refusal


async def store_refusal(
    session: AsyncSession,
    peer: str,
    dispatch_id: str | None,
    refusal: PeerRefused,
    event: str = "refused",
    **detail: object,
) -> None:
    session.add(
        Refusal(peer=peer, dispatch_id=dispatch_id, code=refusal.code, reason=refusal.message)
    )
    await evidence.append(
        session, event, dispatch_id, {"peer": peer, "code": refusal.code, **detail}
    )
