"""A node starts without the libraries only some commands need: they cost resident memory.

Alembic (with Mako and every SQLAlchemy dialect) is for migrating, zxcvbn's dictionaries for
setting a password; together some 20 MiB of an idle node. matplotlib, python-docx and WeasyPrint
are for writing a report: matplotlib alone takes seconds to load, on every command.
"""

from __future__ import annotations

import subprocess
import sys

NOT_AT_START = ("alembic", "mako", "zxcvbn", "matplotlib", "docx", "weasyprint")

PROBE = f"""
import sys
import office.node.cli, office.node.app
from config import migrate
migrate.head_revision()
print(",".join(sorted(name for name in {NOT_AT_START!r} if name in sys.modules)))
"""


def test_the_serve_path_and_the_schema_check_import_neither_alembic_nor_zxcvbn() -> None:
    found = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == ""


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from config import migrate

    heads = migrate._heads_from_source()
    assert heads is not None
    assert heads == [ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()]
