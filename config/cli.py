"""What every ``congvan`` command shares: the ``--dir`` option, settings, running a coroutine,
and a refusal's one-line exit.

Each layer defines its own command group on top of these; ``office.node.cli`` assembles them.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import click

from config.errors import ConfigError, CongvanError
from config.logging import configure_logging
from config.settings import Settings, load_settings

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

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


def or_fail(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)``, a step the command cannot go on without: a
    :class:`CongvanError` (no passphrase, a file that cannot be read) ends the command with
    :func:`fail`'s line instead of a traceback."""
    try:
        return function(*args, **kwargs)
    except CongvanError as error:
        fail(error)


def run(coroutine_function: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """Run one async command body; a :class:`CongvanError` becomes a clear one-line exit."""
    return or_fail(asyncio.run, coroutine_function(*args))


def run_in(resource: AbstractAsyncContextManager[R], work: Callable[[R], Awaitable[T]]) -> T:
    """Run ``work`` on what ``resource`` opens (a :func:`config.database.transaction`'s
    session, a layer's services) and return its result once ``resource`` is closed.

    A command prints that result only then: after its transaction has committed, so it never
    reports done what was rolled back. A :class:`CongvanError` ends the command as in :func:`run`.
    """

    async def body() -> T:
        async with resource as opened:
            return await work(opened)

    return run(body)
