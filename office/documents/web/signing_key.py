"""Chữ ký số cá nhân: a signing person's own key on their node. They activate the key the CA
issued with its one-time activation code, choosing their signing PIN, and change that PIN; the
PIN is asked again at each signature (:mod:`keys.signers`). Nobody else, the administrator
included, ever types it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiMapping
from yarl import URL

from config.errors import CongvanError, Invalid
from keys import signers
from office.documents import review_refusals
from office.documents.desk import DESK
from office.web import forms
from office.web.redirects import see_other
from office.web.rendering import render
from office.web.site import SITE, STAFF, translator

PATH = "/signing-key"
NOTICES = ("activated", "pin-changed")


async def page(request: web.Request) -> web.Response:
    site, staff = request.app[SITE], request[STAFF]
    refusal, status = None, 200
    if request.method == "POST":
        form = await request.post()
        try:
            return await _change(request, form)
        except CongvanError as error:
            refusal, status = translator(request).refusal(error), error.http_status
    async with site.sessions() as session:
        keys = await signers.keys_of(session, staff.id)
    notice = request.query.get("notice")
    return render(
        request,
        "documents/signing_key.html",
        {
            "title": translator(request)("signing_key.title"),
            "keys": keys,
            "pending": any(key.state == "pending" for key in keys),
            "active": any(key.state == "active" for key in keys),
            "notice": notice if notice in NOTICES else None,
            "refusal": refusal,
        },
        status=status,
    )


async def _change(request: web.Request, form: MultiMapping[Any]) -> web.Response:
    """Activate the pending key, or change the PIN: the new PIN typed twice must agree."""
    staff, desk = request[STAFF], request.app[DESK]
    new_pin = forms.form_text(form, "new_pin")
    if new_pin != forms.form_text(form, "new_pin_again"):
        raise Invalid(review_refusals.PINS_DIFFER(), code="pins-differ")
    if forms.form_text(form, "action") == "activate":
        await signers.activate_person_key(
            desk.sessions, staff.id, forms.form_text(form, "activation_code"), new_pin, desk.now()
        )
        notice = "activated"
    else:
        await signers.change_pin(
            desk.sessions, staff.id, forms.form_text(form, "pin"), new_pin, desk.now()
        )
        notice = "pin-changed"
    return see_other(str(URL(PATH).with_query(notice=notice)))


def add_routes(app: web.Application) -> None:
    app.router.add_route("GET", PATH, page)
    app.router.add_route("POST", PATH, page)
