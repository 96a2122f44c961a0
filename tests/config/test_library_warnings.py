"""The warnings silenced for the console are the ones silenced for the suite, by name."""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

from cryptography.utils import CryptographyDeprecationWarning

from config.library_warnings import KNOWN, ignore_known_library_warnings

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def test_each_known_library_warning_has_its_named_filter_in_the_suite() -> None:
    filters = tomllib.loads(PYPROJECT.read_text())["tool"]["pytest"]["ini_options"][
        "filterwarnings"
    ]
    assert filters[0] == "error"
    expected = [
        f"ignore:{message}:{category.__module__}.{category.__qualname__}:{module}"
        for message, category, module in KNOWN
    ]
    assert filters[1:] == expected


def test_the_filter_silences_the_library_and_not_our_own_code() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ignore_known_library_warnings()
        for module in ("pyhanko.sign.signers.pdf_cms", "office.documents.pdf_signing"):
            warnings.warn_explicit(
                "DSA is deprecated and support will be removed in a future release.",
                CryptographyDeprecationWarning,
                filename=module.replace(".", "/") + ".py",
                lineno=1,
                module=module,
            )
    assert [str(w.message)[:17] for w in caught] == ["DSA is deprecated"]
    assert caught[0].filename == "office/documents/pdf_signing.py"
