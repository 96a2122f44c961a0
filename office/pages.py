"""The signed-in pages of this increment: the home page and the sections later ones fill."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from config.errors import NotFound
from keys.signin import StaffMember
from office.documents.workload import workload
from office.rendering import render
from office.site import ACTIVE_SESSION, SITE, STAFF, translator


@dataclass(frozen=True)
class Section:
    key: str
    path: str
    #: Roles that see it; empty: every role.
    roles: frozenset[str] = frozenset()
    #: Its pages have landed (otherwise a placeholder stands in).
    built: bool = False

    def open_to(self, staff: StaffMember) -> bool:
        return not self.roles or staff.role in self.roles


SECTIONS = (
    Section("incoming", "/incoming", built=True),
    Section("outgoing", "/outgoing", built=True),
    Section("schedule", "/schedule", built=True),
    Section("mail", "/mail", built=True),
    Section("search", "/search", built=True),
    Section("admin", "/admin", frozenset({"admin"}), built=True),
)


async def home(request: web.Request) -> web.Response:
    """Sections, and the day's work: tasks by deadline, what waits for the role, the unit's
    figures (an administrator, who reads no documents, sees the sections only)."""
    site, staff = request.app[SITE], request[STAFF]
    desk = site.desk
    work = None
    if staff.role != "admin":
        async with site.sessions() as session:
            work = await workload(
                session, staff, desk.calendar, desk.today(), desk.settings.remind_days_before
            )
    return render(
        request,
        "home.html",
        {
            "title": translator(request)("home.title"),
            "sections": [section for section in SECTIONS if section.open_to(staff)],
            "signed_in_at": request[ACTIVE_SESSION].created_at,
            "work": work,
        },
    )


def placeholder(section: Section) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A section's page until its increment lands; closed to roles it is not for, as if it
    did not exist."""

    async def page(request: web.Request) -> web.Response:
        translate = translator(request)
        if not section.open_to(request[STAFF]):
            raise NotFound(translate("error.not-found"))
        return render(
            request,
            "placeholder.html",
            {"title": translate(f"section.{section.key}"), "section": section},
        )

    return page


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", home, name="home")
    for section in SECTIONS:
        if not section.built:
            app.router.add_get(section.path, placeholder(section), name=section.key)
