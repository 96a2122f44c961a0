"""Start demo nodes in the test's process with fast retries, and watch what they receive."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings, load_settings
from exchange.envelope import Attachment, Draft
from exchange.handlers import ReceivedDispatch
from exchange.outbox import deliveries_of
from office.node.app import RunningNode, start_node
from tests.support.network import DemoNetwork
from tests.support.ports import free_port_block

FAST = {
    "CONGVAN_EXCHANGE_RETRY_BASE_SECONDS": "1",
    "CONGVAN_EXCHANGE_RETRY_CAP_SECONDS": "2",
    "CONGVAN_EXCHANGE_POLL_SECONDS": "1",
}


class Recorder:
    """A ``document`` handler that keeps what it is handed."""

    def __init__(self) -> None:
        self.received: list[ReceivedDispatch] = []

    async def __call__(self, session: AsyncSession, dispatch: ReceivedDispatch) -> None:
        self.received.append(dispatch)


def fast_settings(network: DemoNetwork, name: str, **extra: str) -> Settings:
    return load_settings(network.node_dir(name), {**FAST, **extra})


async def start(network: DemoNetwork, name: str, **extra: str) -> tuple[RunningNode, Recorder]:
    node = await start_node(fast_settings(network, name, **extra))
    recorder = Recorder()
    node.handlers.replace("document", recorder)
    return node, recorder


async def start_camlo(
    network: DemoNetwork, overrides: dict[str, str] | None = None, *, own_ports: bool = False
) -> RunningNode:
    """Cam Lộ's node; with ``own_ports``, a second process of it (same folder, database and
    spool) listening on ports of its own."""
    overrides = dict(overrides or {})
    if own_ports:
        base = free_port_block(2)
        overrides |= {"CONGVAN_WEB_PORT": str(base), "CONGVAN_PEER_PORT": str(base + 1)}
    return await start_node(load_settings(network.node_dir("HU-CAMLO"), overrides))


async def states(node: RunningNode, dispatch_id: str) -> dict[str, str]:
    async with node.sessions() as session:
        return {d.node: d.state for d in await deliveries_of(session, dispatch_id)}


def draft(tmp_path: Path, to: tuple[str, ...], urgency: int = 0, summary: str = "x") -> Draft:
    attachment = tmp_path / f"{summary}.txt"
    attachment.write_text(f"Công văn: {summary}\n", encoding="utf-8")
    return Draft(
        recipients=to,
        kind="document",
        metadata={"summary": summary},
        attachments=(Attachment(attachment.name, attachment, "text/plain"),),
        urgency=urgency,
    )
