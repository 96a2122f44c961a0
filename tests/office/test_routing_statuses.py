"""What the sending unit learns of its document's handling: each step and its date, not the
handlers' internal notes, unless the handler ticks "gửi kèm ghi chú cho nơi gửi". Checked on
the sending node's own records of the statuses it received."""

from __future__ import annotations

import secrets
from pathlib import Path

from exchange.statuses import StatusView, timeline
from office.node.app import RunningNode
from tests.office.conftest import NewAccount
from tests.support.documents import (
    arrived,
    make_pdf,
    paper_fields,
    sent_to_the_province,
    version,
)
from tests.support.network import DemoNetwork
from tests.support.nodes import start_camlo
from tests.support.waiting import wait_for
from tests.support.web import StaffBrowser, account_id, signed_in

INTERNAL = "NỘI BỘ: đồng chí phụ trách đang đi công tác, chưa trả lời"
SHARED = "Đã gửi dự thảo báo cáo để các ban góp ý"
OUTCOME = "NỘI BỘ: tham mưu xong, lưu hồ sơ"


async def post(browser: StaffBrowser, document_id: int, name: str, **fields: str) -> None:
    page = await browser.get(f"/incoming/{document_id}")
    assert page.status == 200, page.text
    values = {"csrf_token": page.form_token, "form_id": secrets.token_urlsafe(24), **fields}
    if 'name="version"' in page.text:
        values["version"] = version(page)
    answer = await browser.post(f"/incoming/{document_id}/{name}", values)
    assert answer.status == 303, answer.text


async def test_the_sender_gets_each_step_and_its_date_and_only_the_notes_ticked_to_share(
    tu: RunningNode, demo_network: DemoNetwork, make_account: NewAccount, tmp_path: Path
) -> None:
    camlo = await start_camlo(demo_network)
    try:
        pdf = make_pdf(tmp_path, "bao-cao.pdf", "Báo cáo")
        header = await sent_to_the_province(
            camlo,
            pdf,
            {
                "doc_type": "BC",
                "summary": "Báo cáo kết quả thực hiện chương trình chuyển đổi số",
                "number_symbol": "52-BC/HU",
                "issued_on": "2026-11-25",
                "signer_name": "Nguyễn Văn A",
                "urgency": 0,
                "secrecy": 0,
            },
        )
        document_id = (await arrived(tu, header.id)).id
        clerk = await make_account(role="clerk")
        leader = await make_account(role="leader")
        handler = await make_account(role="staff", full_name="Chuyên Viên Báo Cáo")
        async with signed_in(tu, clerk, leader, handler) as (as_clerk, as_leader, as_handler):
            await post(
                as_clerk,
                document_id,
                "register",
                leader=str(await account_id(tu, leader)),
                **paper_fields(
                    "Báo cáo kết quả thực hiện chương trình chuyển đổi số",
                    number_symbol="52-BC/HU",
                    doc_type="BC",
                    issued_on="25/11/2026",
                ),
            )
            await post(
                as_leader,
                document_id,
                "direct",
                note="NỘI BỘ: giao chuyên viên, báo cáo trước thứ Sáu",
                lead=str(await account_id(tu, handler)),
                days="5",
            )
            page = await as_handler.get(f"/incoming/{document_id}")
            assert "Gửi kèm ghi chú cho nơi gửi" in page.text
            await post(as_handler, document_id, "progress", note=INTERNAL)
            await post(as_handler, document_id, "progress", note=SHARED, share_note="1")
            await post(as_handler, document_id, "finish", note=OUTCOME)

        async def received() -> list[StatusView]:
            async with camlo.sessions() as session:
                return await timeline(session, header.id)

        async def all_five() -> bool:
            return len(await received()) == 5

        await wait_for(all_five)
        statuses = await received()
    finally:
        await camlo.stop()
    assert [view.code for view in statuses] == ["03", "04", "05", "05", "06"]
    notes = [view.note for view in statuses]
    assert notes[0].startswith("Số đến ") and notes[1].startswith("Hạn xử lý ")
    assert notes[2:] == ["", SHARED, ""]
    assert not any("NỘI BỘ" in note for note in notes)
    # Each carries its date: the time the receiving unit signed it.
    assert all(view.reported_at[:4].isdigit() for view in statuses)
