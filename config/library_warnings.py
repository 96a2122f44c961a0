"""Warnings of libraries beneath congvan that we cannot act on, silenced by name.

Each entry names the warning's text, its class and the module that raises it, so a new
warning (or this one from our own code) still shows. The same entries stand in
``pyproject.toml``'s ``filterwarnings`` for the test suite, which turns every other warning
into an error.
"""

from __future__ import annotations

import warnings

from cryptography.utils import CryptographyDeprecationWarning

#: (message prefix, category, module regex), as :func:`warnings.filterwarnings` takes them.
KNOWN: tuple[tuple[str, type[Warning], str], ...] = (
    # cryptography 51 deprecates DSA; pyHanko 0.38 still imports its DSA key types to recognise
    # them (pyhanko/sign/signers/pdf_cms.py). congvan never makes or accepts a DSA key.
    # Remove when `python -W error -c "import pyhanko.sign"` runs clean on the locked pyHanko.
    ("DSA is deprecated", CryptographyDeprecationWarning, r"pyhanko\b"),
)


def ignore_known_library_warnings() -> None:
    """Keep the console of ``congvan`` free of the warnings listed in :data:`KNOWN`."""
    for message, category, module in KNOWN:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)
