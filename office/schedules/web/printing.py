"""The week on paper: the traditional table (day, time, content, chair, attendees, place,
prepared by) on A4 landscape, printed by WeasyPrint in a thread like the registers. A secret
line carries its level ("(Tối mật)"), as the page's badge does; adjusted lines carry "điều
chỉnh"; cancelled ones stay, struck through and marked. Each mark is text in its line's cell."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp_jinja2
from aiohttp import web

from office.schedules.views import WeekView
from office.web.printing import html_to_pdf


async def print_response(
    request: web.Request, week: WeekView, unit_name: str, printed: str
) -> web.Response:
    html = aiohttp_jinja2.render_string(
        "schedules/schedule_print.html",
        request,
        {
            "week": week,
            "unit_name": unit_name,
            "printed": printed,
            "end": week.week_start + timedelta(days=6),
        },
    )
    body = await asyncio.get_running_loop().run_in_executor(None, html_to_pdf, html)
    stem = f"lich-cong-tac-{week.week_start.isoformat()}"
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{stem}.pdf"'},
    )
