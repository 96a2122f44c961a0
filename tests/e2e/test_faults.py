"""The fault campaign, short form: three nodes, each a ``congvan serve`` of its own, exchange
dispatches and mail, direct and through the hub, while the sender, the receiver and the hub are
killed with SIGKILL, connections are cut mid-transfer and the receiver's disk runs full for a
while (tests/support/faults.py). Afterwards every dispatch was handled once, every mail is once
in each recipient's Maildir, every evidence log verifies, nothing half written is left in a
spool, and the full disk was answered "not now" (``disk-full``, retryable), never with a 500.

``python -m bench.faults`` runs the same campaign at 2,000 dispatches and 500 mails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import Cli
from tests.support.databases import using_postgresql
from tests.support.disk import can_mount
from tests.support.faults import SHORT, Campaign
from tests.support.network import DemoNetwork

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not can_mount(), reason="the receiver's small disk is a tmpfs: needs root"),
]


@pytest.mark.timeout(SHORT.seconds + SHORT.settle_seconds + 300)
async def test_nothing_is_lost_or_doubled_when_nodes_die_links_break_and_a_disk_fills(
    cli: Cli, fresh_network: DemoNetwork, tmp_path: Path, log_dir: Path
) -> None:
    campaign = Campaign(cli, fresh_network, tmp_path / "work", log_dir, SHORT)
    figures = await campaign.run("PostgreSQL" if using_postgresql() else "SQLite")
    print("\n" + "\n".join(figures.lines()))

    assert figures.problems == []
    assert (figures.lost, figures.duplicated) == (0, 0)
    assert (figures.dispatches, figures.mails) == (SHORT.dispatches, SHORT.mails)
    assert dict(figures.kills) == {
        role: SHORT.kills_per_role for role in ("sender", "receiver", "hub")
    }
    assert figures.cuts == SHORT.cuts
    assert figures.disk_full_periods == SHORT.disk_full_periods
    # The full disk was felt, and answered with a refusal a sender retries.
    assert figures.disk_full_refusals + figures.traffic.smtp_refused[452] > 0
