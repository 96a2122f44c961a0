"""The snapshot as Prometheus metric families, in the format the scraper asks for.

A registry is made for each scrape and fed that scrape's snapshot: the process keeps no
registry (nor uses prometheus-client's global one), and no figure outlives the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from office.metrics.snapshot import (
    MAIL_ACCEPTED,
    MAIL_DELIVERED,
    SIGN_IN,
    SIGN_IN_FAILED,
    DatabaseFigures,
    NodeSnapshot,
)


def _seconds_since(then: datetime | None, now: datetime) -> float:
    return 0.0 if then is None else max(0.0, (now - then).total_seconds())


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class SnapshotCollector(Collector):
    """Turns one :class:`NodeSnapshot` into metric families."""

    def __init__(self, snapshot: NodeSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snapshot = self.snapshot
        yield _gauge(
            "congvan_up",
            "1 when the node's database answered this scrape, else 0 (and no database figures).",
            1 if snapshot.database is not None else 0,
        )
        smtp = CounterMetricFamily(
            "congvan_smtp_sessions",
            "SMTP connections opened to this process since it started (not the node's).",
        )
        smtp.add_metric([], snapshot.smtp_sessions)
        yield smtp
        if snapshot.crl_next_update is not None:
            yield _gauge(
                "congvan_crl_next_update_seconds",
                "Seconds until the CRL in force falls due (negative: stale, peers are refused); "
                "absent when it is missing or not signed by our CA.",
                (snapshot.crl_next_update - snapshot.taken_at).total_seconds(),
            )
        if snapshot.database is not None:
            yield from self._database(snapshot.database, snapshot.taken_at)

    def _database(self, figures: DatabaseFigures, now: datetime) -> Iterator[Metric]:
        yield from self._outbox(figures, now)
        refusals = CounterMetricFamily(
            "congvan_refusals",
            "Refusals this node recorded (offers, relays and expired uploads), by code.",
            labels=["code"],
        )
        for code, count in sorted(figures.refusals.items()):
            refusals.add_metric([code], count)
        yield refusals
        yield _gauge(
            "congvan_mail_queue_messages",
            "Accepted mail not yet delivered to every recipient nor bounced.",
            figures.mail_queue.waiting,
        )
        yield _gauge(
            "congvan_mail_queue_oldest_due_seconds",
            "How long the oldest due message in the mail queue has waited for a worker.",
            _seconds_since(figures.mail_queue.oldest_due_at, now),
        )
        today = figures.events_today
        yield _gauge(
            "congvan_mail_accepted_today",
            "Messages accepted for sending today (Vietnam time), by SMTP and by the web.",
            today[MAIL_ACCEPTED],
        )
        yield _gauge(
            "congvan_mail_delivered_today",
            "Messages put into this node's mailboxes today (Vietnam time).",
            today[MAIL_DELIVERED],
        )
        yield _gauge(
            "congvan_sign_ins_today",
            "Successful sign-ins today (Vietnam time), web and SMTP AUTH: the accesses the "
            "IT report counts.",
            today[SIGN_IN],
        )
        yield _gauge(
            "congvan_sign_ins_refused_today",
            "Sign-ins refused today (Vietnam time), web and SMTP AUTH: wrong passwords or "
            "codes, locked accounts, unknown names; never counted as accesses.",
            today[SIGN_IN_FAILED],
        )
        yield _gauge(
            "congvan_sign_in_failures",
            "Wrong web sign-ins held against accounts now (since each one's last success).",
            figures.sign_in_trouble.failures,
        )
        yield _gauge(
            "congvan_accounts_locked",
            "Staff accounts that cannot sign in now from an address that waits after wrong "
            "sign-ins giving their name.",
            figures.sign_in_trouble.locked,
        )
        yield _gauge(
            "congvan_usage_rollup_lag_events",
            "Usage events written but not yet rolled up into the daily totals.",
            figures.rollup.events,
        )
        yield _gauge(
            "congvan_usage_rollup_lag_seconds",
            "Age of the oldest usage event not yet rolled up (0: none waits).",
            _seconds_since(figures.rollup.oldest_at, now),
        )

    def _outbox(self, figures: DatabaseFigures, now: datetime) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "congvan_outbox_deliveries",
            "Deliveries not decided by a receipt, per destination node and state "
            "(failed: dead letters waiting for an admin).",
            labels=["node", "state"],
        )
        for row in figures.open_deliveries:
            depth.add_metric([row.node, row.state], row.count)
        yield depth
        oldest = GaugeMetricFamily(
            "congvan_outbox_oldest_due_seconds",
            "How long the oldest due delivery to each node has waited for a worker.",
            labels=["node"],
        )
        for node, since in sorted(figures.oldest_due_deliveries.items()):
            oldest.add_metric([node], _seconds_since(since, now))
        yield oldest
        times = figures.delivery_times
        latency = GaugeHistogramMetricFamily(
            "congvan_dispatch_delivery_seconds",
            "Time from queueing to the receiver's receipt of the deliveries delivered in the "
            "last 24 hours (a sliding window: a gauge histogram).",
            buckets=[
                *((str(bound), count) for bound, count in times.buckets),
                ("+Inf", times.count),
            ],
            gsum_value=times.total_seconds,
        )
        yield latency


def render(snapshot: NodeSnapshot, accept: str) -> tuple[bytes, str]:
    """The snapshot in the format the scraper asked for (``Accept``): Prometheus' text format,
    or OpenMetrics; and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot))
    encode, content_type = choose_encoder(accept)
    return encode(registry), content_type
