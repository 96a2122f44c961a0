"""What a feature brings to the staff web app: its routes, messages, templates and any paths
open without signing in.

The web app (:func:`office.web.app.create_web_app`) knows no feature: the composition root
(``office.node``) hands it the list, and it loops over them. A feature ``name`` keeps its
templates in ``office/<name>/templates/`` and renders them as ``"<name>/page.html"``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from keys.signin import StaffMember

#: ``{language: {key: text}}``: both languages of a feature's messages in one place.
Messages = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Section:
    """A feature's entry on the home page: ``section.<key>`` and ``section.<key>.about`` in its
    messages, shown to ``roles`` (empty: every role), at ``position`` among the others."""

    key: str
    path: str
    position: int
    roles: frozenset[str] = frozenset()

    def open_to(self, staff: StaffMember) -> bool:
        return not self.roles or staff.role in self.roles


@dataclass(frozen=True)
class Feature:
    """One feature's part of the staff web app."""

    #: Its package under ``office`` and its templates' prefix.
    name: str
    add_routes: Callable[[web.Application], None]
    messages: Messages
    #: Run after the session check, in the order the features are listed.
    middlewares: tuple[Middleware, ...] = ()
    #: Requests this feature answers without a signed-in user (a calendar app's feed, whose
    #: secret token in the path is the credential).
    is_public: Callable[[web.Request], bool] | None = None
    #: Its entries on the home page.
    sections: tuple[Section, ...] = ()
    #: Whether its templates live in ``office/<name>/templates/``.
    has_templates: bool = True
