"""A PDF's text for the search index, read in a child process under a page, time and memory cap.

Reading a PDF's text costs what its author wants it to: 150 pages sharing one large content
stream without text keep pypdf busy for a minute, a compressed stream may unfold into
gigabytes. So the node never reads one in its own process: :func:`read_text` runs this module
as a child (``python -m office.documents.pdf_text``) that reads at most ``pages`` pages, and
kills it past ``seconds`` (the child also limits its own CPU time and memory). ``None`` says
the file could not be read within the caps. pypdf (some 25 MiB) is imported by the child
only: the node imports this module for :func:`read_text` and must not carry it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import resource
import sys
import zlib
from pathlib import Path

PDF_MAGIC = b"%PDF-"
#: Characters of text kept per PDF.
TEXT_LIMIT = 200_000
#: Address space a child may use: a stream unfolding past it ends the child, not the node.
MEMORY_BYTES = 1024 * 1024 * 1024
#: How pypdf (and pyHanko) give up on a damaged file: besides their own errors, plain
#: built-ins (and ``assert``) on structure they did not expect. The property test in
#: ``tests/office/test_pdf_signing.py`` finds them by flipping bytes.
DAMAGED = (
    ValueError,
    LookupError,  # KeyError, IndexError
    TypeError,
    AttributeError,
    AssertionError,
    EOFError,
    ArithmeticError,  # decimal.InvalidOperation on a mangled number
    NotImplementedError,  # a stream filter neither library knows
    RecursionError,  # objects nested without end
    zlib.error,
)


def extract_text(path: Path, limit: int = TEXT_LIMIT, pages: int | None = None) -> str:
    """The text of the first ``pages`` pages (all when ``None``), up to ``limit`` characters;
    ``""`` when pypdf cannot read the file. Blocking and unbounded in time: the node calls it
    only through :func:`read_text`."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    parts: list[str] = []
    size = 0
    try:
        with path.open("rb") as handle:
            if handle.read(len(PDF_MAGIC)) != PDF_MAGIC:
                return ""
            for page in itertools.islice(PdfReader(handle).pages, pages):
                parts.append(page.extract_text() or "")
                size += len(parts[-1]) + 1
                if size >= limit:
                    break
    except (PyPdfError, *DAMAGED, OSError):
        return ""
    return "\n".join(parts)[:limit]


async def read_text(path: Path, *, pages: int, seconds: float) -> str | None:
    """The text of ``path`` read by a child process, or ``None`` when the child did not finish
    within ``seconds`` (it is killed) or died on its limits."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",  # isolated: neither the environment nor the working folder chooses what runs
        "-m",
        __name__,
        str(path),
        str(pages),
        str(int(seconds)),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    output: bytes | None = None
    try:
        output, _ = await asyncio.wait_for(child.communicate(), seconds)
    except TimeoutError:
        pass
    finally:
        if child.returncode is None:  # past its time, or the node stops: the child goes
            child.kill()
            await child.wait()
    if output is None or child.returncode != 0:
        return None
    return output.decode("utf-8", "replace")


def _limit_self(seconds: int) -> None:
    """CPU time and memory caps of the child itself, should the parent not be there to kill
    it (a node killed mid-read); and a lower priority, so the node's requests come first."""
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    os.nice(10)


def main(arguments: list[str]) -> None:
    path, pages, seconds = Path(arguments[0]), int(arguments[1]), int(arguments[2])
    _limit_self(max(seconds, 1))
    sys.stdout.buffer.write(extract_text(path, pages=pages).encode("utf-8", "replace"))


if __name__ == "__main__":
    main(sys.argv[1:])
