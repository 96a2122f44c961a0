"""The home page: the sections a role may open, and the day's work."""

from __future__ import annotations

from aiohttp import web

from office.documents import review_lists
from office.documents.desk import DESK
from office.documents.workload import workload
from office.web.rendering import render
from office.web.site import ACTIVE_SESSION, SITE, STAFF, translator


async def home(request: web.Request) -> web.Response:
    """Sections, and the day's work: tasks by deadline, what waits for the role, the unit's
    figures (an administrator, who reads no documents, sees the sections only)."""
    site, staff = request.app[SITE], request[STAFF]
    desk = request.app[DESK]
    work = None
    drafts: list[tuple[str, list[review_lists.Waiting]]] = []
    if staff.role != "admin":
        async with site.sessions() as session:
            work = await workload(
                session, staff, desk.calendar, desk.today(), desk.settings.remind_days_before
            )
            # The review chain's lists: what waits for this person, and their own drafts.
            drafts = [
                ("to-sign", await review_lists.to_sign(session, staff, desk.today())),
                ("to-review", await review_lists.to_review(session, staff)),
                ("mine", await review_lists.my_drafts(session, staff)),
            ]
    return render(
        request,
        "home/home.html",
        {
            "title": translator(request)("home.title"),
            "sections": [section for section in site.sections if section.open_to(staff)],
            "signed_in_at": request[ACTIVE_SESSION].created_at,
            "work": work,
            "drafts": [(which, rows) for which, rows in drafts if rows],
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", home, name="home")
