"""What only this process sees, counted since it started."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ProcessCounters:
    """Counts kept in memory: the database holds no trace of them (an SMTP connection leaves
    none until its client signs in and sends). Each process of a node reports its own."""

    smtp_sessions: int = 0

    def smtp_session_opened(self) -> None:
        self.smtp_sessions += 1
