"""The sign-in throttle's rule, on the database under test with a clock the test sets: waits by
address that double from the fifth failure, holds by user name that never refuse, and counts
that a success takes back, that an hour forgets, and that an administrator clears."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.database import open_database
from config.settings import Settings
from keys import throttle
from keys.models import SignInFailures
from keys.throttle import ACCOUNT, ADDRESS, WEB, Admission, ThrottlePolicy, address_key
from tests.support.databases import DatabasePool
from tests.support.templates import copy_node

POLICY = ThrottlePolicy(failures=5, longest_wait=timedelta(minutes=15))
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@given(st.integers(min_value=1, max_value=10_000))
def test_an_address_waits_from_the_fifth_failure_doubling_up_to_the_longest(failures: int) -> None:
    wait = POLICY.wait_after(failures)
    if failures < 5:
        assert wait == timedelta(0)
    else:
        expected = timedelta(seconds=2 ** min(failures - 5, 20))
        assert wait == min(expected, timedelta(minutes=15))
        assert POLICY.wait_after(failures + 1) in (2 * wait, timedelta(minutes=15))


@given(st.integers(min_value=1, max_value=10_000))
def test_a_user_name_is_held_past_twice_the_free_failures_never_more_than_16_s(
    failures: int,
) -> None:
    hold = POLICY.hold_at(failures)
    if failures <= 10:
        assert hold == timedelta(0)
    else:
        assert hold == min(timedelta(seconds=2 ** min(failures - 11, 20)), timedelta(seconds=16))


def test_an_address_is_counted_by_host_and_an_ipv6_one_by_its_64_network() -> None:
    assert address_key("192.0.2.7") == "192.0.2.7"
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9")
    assert address_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key(None) is None and address_key("") is None


@pytest.fixture(scope="module")
def node(
    province_original: Settings,
    databases: DatabasePool,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    node_dir = tmp_path_factory.mktemp("throttle") / "TU"
    return copy_node(province_original, node_dir, databases)


@pytest.fixture
async def sessions(node: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with open_database(node) as opened:
        async with opened() as session, session.begin():
            await session.execute(delete(SignInFailures))
        yield opened


async def attempt(
    sessions: async_sessionmaker[AsyncSession],
    address: str,
    name: str,
    now: datetime,
    *,
    succeeds: bool = False,
) -> Admission:
    async with sessions() as session, session.begin():
        admission = await throttle.admit(session, WEB, address, name, POLICY, now)
    if admission.admitted:
        async with sessions() as session, session.begin():
            if succeeds:
                await throttle.record_success(session, admission, POLICY, now)
            else:
                await throttle.record_failure(session, admission, now)
    return admission


async def row(
    sessions: async_sessionmaker[AsyncSession], scope: str, key: str
) -> SignInFailures | None:
    async with sessions() as session:
        return await session.get(SignInFailures, (WEB, scope, key))


async def test_an_attempt_while_its_address_waits_is_refused_and_not_counted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for n in range(4):
        assert (await attempt(sessions, "10.0.0.1", "lan", T0 + timedelta(seconds=n))).admitted
    fifth = await attempt(sessions, "10.0.0.1", "lan", T0 + timedelta(seconds=4))
    assert fifth.started_wait == T0 + timedelta(seconds=5)
    refused = await attempt(sessions, "10.0.0.1", "ai.khac", T0 + timedelta(seconds=4.5))
    assert (refused.admitted, refused.waiting_until) == (False, T0 + timedelta(seconds=5))
    counted = await row(sessions, ADDRESS, "10.0.0.1")
    assert counted is not None and counted.failures == 5
    assert await row(sessions, ACCOUNT, "ai.khac") is None  # nothing counted for the name
    sixth = await attempt(sessions, "10.0.0.1", "lan", T0 + timedelta(seconds=5))
    assert sixth.started_wait == T0 + timedelta(seconds=7)


async def test_a_success_takes_back_its_own_count_and_clears_the_names(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for n in range(4):
        await attempt(sessions, "10.0.0.2", "lan", T0 + timedelta(seconds=n))
    success = await attempt(sessions, "10.0.0.2", "lan", T0 + timedelta(seconds=5), succeeds=True)
    assert success.started_wait is not None  # counted as the fifth before it was checked...
    address = await row(sessions, ADDRESS, "10.0.0.2")
    account = await row(sessions, ACCOUNT, "lan")
    # ...and taken back, with the wait it started: the address keeps its four failures.
    assert address is not None and (address.failures, address.wait_until) == (4, None)
    assert account is not None and account.failures == 0


async def test_a_count_is_forgotten_an_hour_after_its_last_failure_and_then_dropped(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for n in range(6):
        await attempt(sessions, "10.0.0.3", "lan", T0 + timedelta(seconds=3 * n))
    last = T0 + timedelta(seconds=15)
    later = last + 4 * POLICY.longest_wait + timedelta(seconds=1)
    again = await attempt(sessions, "10.0.0.3", "lan", later)
    assert again.admitted and again.started_wait is None
    counted = await row(sessions, ADDRESS, "10.0.0.3")
    assert counted is not None and counted.failures == 1
    # A success anywhere drops the counts nobody needs any more.
    await attempt(sessions, "10.0.0.4", "nam", T0)
    await attempt(sessions, "10.0.0.5", "hoa", later + timedelta(hours=2), succeeds=True)
    async with sessions() as session:
        left = set(await session.scalars(select(SignInFailures.key)))
    assert left == {"10.0.0.5", "hoa"}


async def test_many_failures_for_a_name_only_hold_its_attempts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Two failures each from six addresses: none of them waits, and the name's attempts are
    held 1 s, then 2 s, never refused."""
    holds = []
    for n in range(12):
        admission = await attempt(sessions, f"10.0.1.{n // 2}", "quantri", T0)
        assert admission.admitted and admission.started_wait is None
        holds.append(admission.hold.total_seconds())
    assert holds == [0] * 10 + [1, 2]
    owner = await attempt(sessions, "10.0.2.1", "quantri", T0, succeeds=True)
    assert owner.admitted and owner.hold == timedelta(seconds=4)
    counted = await row(sessions, ACCOUNT, "quantri")
    assert counted is not None and counted.failures == 0


async def test_an_unlock_clears_the_users_counts_and_the_waits_their_name_started(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for n in range(6):
        await attempt(sessions, "10.0.0.6", "lan", T0 + timedelta(seconds=3 * n))
    await attempt(sessions, "10.0.0.7", "lan", T0)
    for n in range(6):
        await attempt(sessions, "10.0.0.8", "hoa", T0 + timedelta(seconds=3 * n))
    async with sessions() as session:
        assert set(await throttle.waits_by_user(session, T0)) == {"lan", "hoa"}
    async with sessions() as session, session.begin():
        await throttle.forget_user(session, "lan")
    async with sessions() as session:
        assert set(await throttle.waits_by_user(session, T0)) == {"hoa"}
    for key in ("10.0.0.6", "10.0.0.7"):
        counted = await row(sessions, ADDRESS, key)
        assert counted is not None and (counted.failures, counted.wait_until) == (0, None)
    account = await row(sessions, ACCOUNT, "lan")
    assert account is not None and account.failures == 0
