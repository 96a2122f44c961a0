"""Pages printed to PDF (the registers, the week's schedule): an HTML page rendered from its
template, laid out by WeasyPrint. Blocking and CPU-bound: callers run it in a thread."""

from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    """The PDF of ``html``; its page size and orientation come from the page's own CSS."""
    from weasyprint import HTML  # heavy: only a print loads it

    return bytes(HTML(string=html).write_pdf())
