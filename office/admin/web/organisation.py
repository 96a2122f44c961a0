"""The administrator's page of each hosted unit's organisation: its head (the leader its
incoming documents are presented to by default, Decree 30/2020 Art. 23), its departments
(phòng, ban) with their heads, and who belongs to which (:mod:`keys.organisation`).

Only the ``admin`` role opens it (anyone else gets the page a missing address gets); each action
is a POST carrying the form token, done in one transaction, logged with the administrator's
name, and leads back to the page saying what was done.
"""

from __future__ import annotations

from aiohttp import web
from multidict import MultiMapping
from yarl import URL

from config.logging import get_logger
from keys import accounts, organisation
from office.admin.web.accounts import administrator
from office.web.forms import form_text
from office.web.redirects import see_other
from office.web.rendering import render
from office.web.site import SITE, translator

PATH = "/admin/organisation"
NOTICES = ("head", "added", "removed", "department-head", "member")

log = get_logger("congvan.web.admin")


def _done(notice: str) -> web.Response:
    return see_other(URL(PATH).with_query(notice=notice))


def _optional(form: MultiMapping[object], name: str) -> str | None:
    """A select's value: None for its empty choice (no head, no department)."""
    return form_text(form, name).strip() or None


async def organisation_page(request: web.Request) -> web.Response:
    site = request.app[SITE]
    administrator(request)
    async with site.sessions() as session:
        people = await accounts.list_accounts(session, site.hosted_units)
        units = [
            (
                unit,
                await organisation.unit_head_username(session, unit),
                await organisation.list_departments(session, unit),
            )
            for unit in site.hosted_units
        ]
    notice = request.query.get("notice")
    return render(
        request,
        "admin/admin_organisation.html",
        {
            "title": translator(request)("admin.organisation.title"),
            "units": units,
            "people": [a for a in people if a.role != "admin" and not a.disabled],
            "notice": notice if notice in NOTICES else None,
        },
    )


async def set_unit_head(request: web.Request) -> web.Response:
    site, admin = request.app[SITE], administrator(request)
    form = await request.post()
    unit, username = form_text(form, "unit"), _optional(form, "username")
    async with site.sessions() as session, session.begin():
        await organisation.set_unit_head(session, unit, username, site.hosted_units)
    log.info("admin.unit_head", admin=admin.username, unit=unit, head=username)
    return _done("head")


async def add_department(request: web.Request) -> web.Response:
    site, admin = request.app[SITE], administrator(request)
    form = await request.post()
    unit, code = form_text(form, "unit"), form_text(form, "code")
    async with site.sessions() as session, session.begin():
        added = await organisation.add_department(
            session, unit, code, form_text(form, "name"), site.hosted_units
        )
    log.info("admin.department_added", admin=admin.username, unit=unit, code=added.code)
    return _done("added")


async def set_department_head(request: web.Request) -> web.Response:
    site, admin = request.app[SITE], administrator(request)
    unit, code = request.match_info["unit"], request.match_info["code"]
    username = _optional(await request.post(), "username")
    async with site.sessions() as session, session.begin():
        await organisation.set_department_head(session, unit, code, username, site.hosted_units)
    log.info("admin.department_head", admin=admin.username, unit=unit, code=code, head=username)
    return _done("department-head")


async def remove_department(request: web.Request) -> web.Response:
    site, admin = request.app[SITE], administrator(request)
    unit, code = request.match_info["unit"], request.match_info["code"]
    async with site.sessions() as session, session.begin():
        await organisation.remove_department(session, unit, code, site.hosted_units)
    log.info("admin.department_removed", admin=admin.username, unit=unit, code=code)
    return _done("removed")


async def set_member(request: web.Request) -> web.Response:
    site, admin = request.app[SITE], administrator(request)
    username = request.match_info["username"]
    code = _optional(await request.post(), "department")
    async with site.sessions() as session, session.begin():
        await organisation.set_member(session, username, code, site.hosted_units)
    log.info("admin.department_member", admin=admin.username, user=username, department=code)
    return _done("member")


def add_routes(app: web.Application) -> None:
    app.router.add_get(PATH, organisation_page, name="admin.organisation")
    app.router.add_post(f"{PATH}/head", set_unit_head)
    app.router.add_post(f"{PATH}/departments", add_department)
    app.router.add_post(rf"{PATH}/departments/{{unit}}/{{code}}/head", set_department_head)
    app.router.add_post(rf"{PATH}/departments/{{unit}}/{{code}}/remove", remove_department)
    app.router.add_post(rf"{PATH}/members/{{username}}", set_member)
