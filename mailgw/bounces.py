"""Delivery status notifications (RFC 3464): the bounce a sender gets for a recipient that does
not exist, or for mail that could not be delivered after every retry.

The notification is an ordinary message, ``multipart/report; report-type=delivery-status``: a
human-readable part (Vietnamese, then English), the machine-readable ``message/delivery-status``
part, and the headers of the original (``text/rfc822-headers``), so a mail client shows it and
a program can parse it. Its envelope sender is empty, so it is never bounced in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesHeaderParser
from email.utils import format_datetime, make_msgid
from pathlib import Path

from mailgw.parsing import header_block, header_text


@dataclass(frozen=True)
class FailedRecipient:
    address: str
    #: RFC 3463 enhanced status, e.g. ``5.1.1`` (no such user).
    status: str
    #: The reason, as an SMTP server would have given it.
    diagnostic: str


def _status_part(reporting_domain: str, failed: Sequence[FailedRecipient]) -> MIMEBase:
    per_message = Message()
    per_message["Reporting-MTA"] = f"dns; {reporting_domain}"
    per_message["Arrival-Date"] = format_datetime(datetime.now(UTC))
    blocks: list[Message | str] = [per_message]
    for recipient in failed:
        block = Message()
        block["Final-Recipient"] = f"rfc822; {recipient.address}"
        block["Action"] = "failed"
        block["Status"] = recipient.status
        block["Diagnostic-Code"] = f"smtp; {recipient.diagnostic}"
        blocks.append(block)
    part = MIMEBase("message", "delivery-status")
    part.set_payload(blocks)
    return part


def _explanation(failed: Sequence[FailedRecipient], subject: str) -> str:
    lines = [
        f"Thư «{subject}» của bạn không gửi được tới:",
        *(f"  {item.address}: {item.diagnostic}" for item in failed),
        "",
        f"Your message “{subject}” could not be delivered to:",
        *(f"  {item.address}: {item.diagnostic}" for item in failed),
    ]
    return "\n".join(lines) + "\n"


def delivery_failure(
    original: Path,
    *,
    sender: str,
    reporting_domain: str,
    failed: Sequence[FailedRecipient],
) -> bytes:
    """The bounce of the message at ``original`` for ``failed`` recipients, to ``sender``."""
    headers_bytes = header_block(original)
    subject = header_text(
        BytesHeaderParser(policy=policy.default).parsebytes(headers_bytes), "Subject"
    )
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = f"Mail Delivery System <mailer-daemon@{reporting_domain}>"
    report["To"] = sender
    title = Header(f"Không gửi được thư / Undelivered mail: {subject}", "utf-8")
    report["Subject"] = title  # type: ignore[assignment]
    report["Date"] = format_datetime(datetime.now(UTC))
    report["Message-ID"] = make_msgid(domain=reporting_domain)
    report["Auto-Submitted"] = "auto-replied"
    report.attach(MIMEText(_explanation(failed, subject), "plain", "utf-8"))
    report.attach(_status_part(reporting_domain, failed))
    headers_part = MIMEBase("text", "rfc822-headers")
    headers_part.set_payload(headers_bytes.decode("utf-8", "replace"), "utf-8")
    report.attach(headers_part)
    return report.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))
