"""What every ``congvan`` command shares: the ``--dir`` option, settings, running a coroutine.

Each layer defines its own command group on top of these; ``office.node.cli`` assembles them.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from config.errors import ConfigError, CongvanError
from config.logging import configure_logging
from config.settings import Settings, load_settings

T = TypeVar("T")

dir_option = click.option(
    "--dir",
    "node_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CONGVAN_DIR",
    default=".",
    show_default=True,
    help="The node directory (holds node.toml).",
)


def fail(error: CongvanError) -> NoReturn:
    """One line on stderr and a non-zero exit: 2 for bad settings, 1 for anything else."""
    message = error.message if isinstance(error, ConfigError) else f"error: {error.message}"
    click.echo(message, err=True)
    sys.exit(2 if isinstance(error, ConfigError) else 1)


def load(node_dir: Path) -> Settings:
    """Settings for a command, with logging set up from them."""
    try:
        settings = load_settings(node_dir)
    except ConfigError as error:
        fail(error)
    configure_logging(settings.log, base_dir=settings.node_dir)
    return settings


def run(coroutine_function: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """Run one async command body; a :class:`CongvanError` becomes a clear one-line exit."""
    try:
        return asyncio.run(coroutine_function(*args))
    except CongvanError as error:
        fail(error)
