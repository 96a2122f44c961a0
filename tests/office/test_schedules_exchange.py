"""The province's published week reaches the district nodes as a ``schedule`` dispatch: the
district's leaders see it beside their own; an adjustment replaces it; an older or repeated
version changes nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from exchange.envelope import Draft, Header
from exchange.handlers import ReceivedDispatch
from exchange.models import Refusal
from office.node.app import RunningNode
from office.schedules import distribution
from office.schedules.models import ScheduleEntry, ScheduleWeek
from tests.conftest import SecretsSeen
from tests.office.conftest import NewAccount
from tests.support.network import DemoNetwork
from tests.support.nodes import start, states
from tests.support.schedules import a_week, entry_ids, post_line, step
from tests.support.waiting import wait_for
from tests.support.web import StaffAccount, StaffBrowser, new_account


async def account_on(node: RunningNode, secrets_seen: SecretsSeen, role: str) -> StaffAccount:
    account = await new_account(node, role=role)
    secrets_seen.add(account.password, account.totp_secret)
    return account


async def received(node: RunningNode, week: date) -> tuple[int, list[ScheduleEntry]]:
    """The version of the province's week kept on ``node`` (0: none yet) and its lines."""
    async with node.sessions() as session:
        row = await session.scalar(
            select(ScheduleWeek).where(
                ScheduleWeek.week_start == week, ScheduleWeek.source_unit == "TU"
            )
        )
        if row is None:
            return 0, []
        entries = await session.scalars(
            select(ScheduleEntry).where(ScheduleEntry.week_id == row.id).order_by(ScheduleEntry.id)
        )
        return row.version, list(entries.all())


async def test_the_province_s_published_week_reaches_the_district_s_leaders(
    tu: RunningNode, camlo: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    clerk, leader = await make_account(role="clerk"), await make_account(role="leader")
    district_leader = await account_on(camlo, secrets_seen, "leader")
    district_staff = await account_on(camlo, secrets_seen, "staff")
    week = a_week()
    async with StaffBrowser(tu.web_url) as as_clerk, StaffBrowser(tu.web_url) as as_leader:
        await as_clerk.sign_in_as(clerk)
        await as_leader.sign_in_as(leader)
        assert (await post_line(as_clerk, week, content="Hội nghị Ban Chấp hành")).status == 303
        await step(as_clerk, week, "submit")
        assert (await step(as_leader, week, "approve")).status == 303

        async def arrived(version: int) -> bool:
            return (await received(camlo, week))[0] >= version

        await wait_for(lambda: arrived(1))
        async with (
            StaffBrowser(camlo.web_url) as as_district,
            StaffBrowser(camlo.web_url) as as_district_staff,
        ):
            await as_district.sign_in_as(district_leader)
            await as_district_staff.sign_in_as(district_staff)
            page = await as_district.get(f"/schedule?week={week.isoformat()}")
            assert 'id="received-TU"' in page.text
            assert "Lịch công tác của Tỉnh uỷ Quảng Trị" in page.text
            assert "Hội nghị Ban Chấp hành" in page.text
            staff_page = await as_district_staff.get(f"/schedule?week={week.isoformat()}")
            assert "Hội nghị Ban Chấp hành" not in staff_page.text
            # Read-only: the district cannot edit the province's line.
            [line] = (await received(camlo, week))[1]
            assert (await as_district.get(f"/schedule/entries/{line.id}")).status == 404

            # An adjustment at the province replaces the district's copy.
            [entry_id] = entry_ids(await as_clerk.get(f"/schedule?week={week.isoformat()}"))
            moved = await post_line(
                as_clerk, week, entry_id, content="Hội nghị Ban Chấp hành (đổi giờ)"
            )
            assert moved.status == 303
            await wait_for(lambda: arrived(2))
            version, [kept] = await received(camlo, week)
            assert (version, kept.content, kept.adjusted) == (
                2,
                "Hội nghị Ban Chấp hành (đổi giờ)",
                True,
            )
            again = await as_district.get(f"/schedule?week={week.isoformat()}")
            assert "Hội nghị Ban Chấp hành (đổi giờ)" in again.text
            assert "Điều chỉnh" in again.text


async def test_a_secret_line_reaches_a_district_on_another_node_only_as_lich_mat(
    tu: RunningNode, camlo: RunningNode, make_account: NewAccount, secrets_seen: SecretsSeen
) -> None:
    """Cam Lộ is on another node and the network carries nothing above Không mật (the
    default limit): the Tối mật line arrives as "Lịch mật" with its time and level, none of
    its words; the ordinary line arrives whole (2018 Law on Protection of State Secrets)."""
    clerk = await make_account(role="clerk", clearance=3)
    leader = await make_account(role="leader", clearance=3)
    secret_words = ["Bàn phương án nhân sự", "Trần Văn Bí", "Phòng họp kín", "Tổ giúp việc nhân sự"]
    week = a_week()
    async with StaffBrowser(tu.web_url) as as_clerk, StaffBrowser(tu.web_url) as as_leader:
        await as_clerk.sign_in_as(clerk)
        await as_leader.sign_in_as(leader)
        secret = await post_line(
            as_clerk,
            week,
            content=secret_words[0],
            attendees_text=secret_words[1],
            place=secret_words[2],
            prepared_by=secret_words[3],
            notes="Mang tài liệu mật",
            secrecy="2",
            start_time="14:00",
            end_time="16:30",
        )
        assert secret.status == 303, secret.text
        assert (await post_line(as_clerk, week, content="Giao ban tuần")).status == 303
        await step(as_clerk, week, "submit")
        assert (await step(as_leader, week, "approve")).status == 303

    async def arrived() -> bool:
        return (await received(camlo, week))[0] >= 1

    await wait_for(arrived)
    _version, lines = await received(camlo, week)
    masked = next(line for line in lines if line.secrecy == 2)
    ordinary = next(line for line in lines if line.secrecy == 0)
    assert (masked.content, masked.place, masked.attendees_text, masked.prepared_by) == (
        "Lịch mật",
        "",
        "",
        "",
    )
    assert (masked.notes, masked.chair_text) == ("", "")
    assert (masked.start_time.isoformat(), masked.end_time.isoformat()) == ("14:00:00", "16:30:00")
    assert ordinary.content == "Giao ban tuần"
    assert ordinary.place == "Phòng họp số 1"
    async with camlo.sessions() as session:
        kept = " ".join(
            f"{row.content} {row.place} {row.attendees_text} {row.prepared_by} {row.notes}"
            for row in await session.scalars(select(ScheduleEntry))
        )
    assert not [word for word in [*secret_words, "Mang tài liệu mật"] if word in kept]


async def test_an_older_or_repeated_version_changes_nothing(camlo: RunningNode) -> None:
    week = a_week()

    def dispatch(version: int, content: str) -> ReceivedDispatch:
        header = Header(
            id=f"test-{version}-{content}",
            sender="TU",
            recipients=("HU-CAMLO",),
            kind="schedule",
            created="2026-11-27T00:00:00Z",
            urgency=0,
            node="TU",
            size=1,
            payload_sha256="0" * 64,
        )
        metadata = {
            "week_start": week.isoformat(),
            "version": version,
            "published_at": "",
            "entries": [
                {
                    "uid": f"u{version}",
                    "day": week.isoformat(),
                    "start": "08:00",
                    "end": "09:00",
                    "content": content,
                }
            ],
        }
        return ReceivedDispatch(header, ("HU-CAMLO",), metadata, (), camlo.settings.blob_dir)

    for version, content in ((2, "Bản 2"), (1, "Bản 1"), (2, "Bản 2 lặp lại")):
        async with camlo.sessions() as session, session.begin():
            await distribution.receive(session, dispatch(version, content))
    version, entries = await received(camlo, week)
    assert (version, [entry.content for entry in entries]) == (2, ["Bản 2"])


async def test_a_schedule_from_a_unit_not_above_the_recipient_is_refused_on_arrival(
    demo_network: DemoNetwork, camlo: RunningNode
) -> None:
    dongha, _recorder = await start(demo_network, "TX-DONGHA")
    week = a_week()
    try:
        assert dongha.outbox is not None
        header = await dongha.outbox.send(
            "TX-DONGHA",
            Draft(
                recipients=("HU-CAMLO",),
                kind="schedule",
                metadata={
                    "unit": "TX-DONGHA",
                    "week_start": week.isoformat(),
                    "version": 1,
                    "published_at": "",
                    "entries": [
                        {
                            "uid": "giả-mạo",
                            "day": week.isoformat(),
                            "start": "08:00",
                            "end": "09:00",
                            "content": "Lịch do một huyện ngang cấp gửi",
                        }
                    ],
                },
            ),
        )

        async def decided() -> bool:
            return (await states(dongha, header.id)).get("HU-CAMLO") == "refused"

        await wait_for(decided)
    finally:
        await dongha.stop()
    async with camlo.sessions() as session:
        refusal = await session.scalar(select(Refusal).where(Refusal.dispatch_id == header.id))
        kept = await session.scalar(
            select(ScheduleWeek).where(ScheduleWeek.source_unit == "TX-DONGHA")
        )
    assert refusal is not None and refusal.code == "schedule-not-from-above"
    assert refusal.reason == (
        "đơn vị TX-DONGHA không phải cấp trên của đơn vị HU-CAMLO: "
        "chỉ nhận lịch công tác do cấp trên gửi xuống"
    )
    assert kept is None
