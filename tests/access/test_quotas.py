"""The quotas ledger on SQLite and a real PostgreSQL: balances, debits, refunds, grants, and
20 concurrent debits of one quota that never overdraw it."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from terrapole.access.pricing import Family, PriceTable
from terrapole.access.profiles import Profile
from terrapole.access.quotas import Ledger, Quota, QuotaExceeded
from terrapole.access.tables import quota_balances, quota_ledger
from terrapole.errors import InvalidInput

SCIENTIST = Profile.FRENCH_SCIENTIST


@pytest.fixture
def quota_engine(engine: sa.Engine) -> sa.Engine:
    """A migrated database of each kind (``engine`` of tests/access/conftest.py)."""
    return engine


def _quota(entity: str = "lab-1", family: Family = Family.PLEIADES) -> Quota:
    return Quota(entity, SCIENTIST, family, "2026-Q4")


def _rows(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as con:
        return int(con.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_an_untouched_quota_has_its_allowance_left(quota_engine: sa.Engine) -> None:
    balance = Ledger(quota_engine).balance(_quota())
    assert (balance.allowance_km2, balance.debited_km2, balance.credited_km2) == (5500, 0, 0)
    assert balance.remaining_km2 == 5500
    assert _rows(quota_engine, quota_balances) == 0  # reading writes nothing


def test_debits_and_refunds_move_the_remaining_km2(quota_engine: sa.Engine) -> None:
    ledger, quota = Ledger(quota_engine), _quota()
    ledger.debit(quota, order_id="o1", km2=2000, actor="u1", reason="archive order")
    ledger.debit(quota, order_id="o2", km2=1500.5, actor="u2", reason="tasking")
    assert ledger.balance(quota).remaining_km2 == pytest.approx(1999.5)
    ledger.refund(quota, order_id="o1", actor="ref", reason="refused")
    balance = ledger.balance(quota)
    assert (balance.debited_km2, balance.credited_km2) == (pytest.approx(3500.5), 2000)
    assert balance.remaining_km2 == pytest.approx(3999.5)
    entries = ledger.entries(quota)
    assert [(e.order_id, e.entry, e.km2, e.actor, e.reason) for e in entries] == [
        ("o1", "debit", 2000, "u1", "archive order"),
        ("o2", "debit", 1500.5, "u2", "tasking"),
        ("o1", "credit", 2000, "ref", "refused"),
    ]
    # other quotas are apart
    assert ledger.balance(_quota("lab-2")).remaining_km2 == 5500
    assert ledger.balance(_quota(family=Family.SPOT)).remaining_km2 == 36000


def test_a_refund_is_given_once(quota_engine: sa.Engine) -> None:
    ledger, quota = Ledger(quota_engine), _quota()
    ledger.debit(quota, order_id="o1", km2=100, actor="u1", reason="order")
    ledger.refund(quota, order_id="o1", actor="u1", reason="cancelled")
    with pytest.raises(InvalidInput, match="nothing of this quota to refund"):
        ledger.refund(quota, order_id="o1", actor="u1", reason="cancelled again")
    with pytest.raises(InvalidInput, match="nothing of this quota to refund"):
        ledger.refund(quota, order_id="never", actor="u1", reason="unknown order")
    assert ledger.balance(quota).remaining_km2 == 5500
    assert _rows(quota_engine, quota_ledger) == 2


def test_a_debit_beyond_the_quota_is_refused_whole_or_split(quota_engine: sa.Engine) -> None:
    ledger, quota = Ledger(quota_engine), _quota()
    ledger.debit(quota, order_id="o1", km2=5000, actor="u1", reason="order")
    with pytest.raises(QuotaExceeded, match="600.0 km² asked, 500.0 km² left") as caught:
        ledger.debit(quota, order_id="o2", km2=600, actor="u1", reason="order")
    assert caught.value.left == 500
    assert _rows(quota_engine, quota_ledger) == 1  # nothing written
    entry = ledger.debit(quota, order_id="o2", km2=600, actor="u1", reason="order",
                         allow_overage=True)  # fmt: skip
    assert (entry.km2, entry.overage_km2) == (500, 100)
    assert ledger.balance(quota).remaining_km2 == 0
    ledger.refund(quota, order_id="o2", actor="u1", reason="cancelled")
    refunded = ledger.entries(quota)[-1]
    assert (refunded.entry, refunded.km2, refunded.overage_km2) == ("credit", 500, 100)
    assert ledger.balance(quota).remaining_km2 == 500


@pytest.mark.parametrize("km2", [0, -1, float("nan"), float("inf")])
def test_a_debit_of_no_area_is_refused(quota_engine: sa.Engine, km2: float) -> None:
    with pytest.raises(InvalidInput, match="positive area"):
        Ledger(quota_engine).debit(_quota(), order_id="o", km2=km2, actor="u", reason="r")
    assert _rows(quota_engine, quota_ledger) == 0


def test_a_grant_adds_to_the_quota(quota_engine: sa.Engine) -> None:
    ledger, quota = Ledger(quota_engine), _quota()
    ledger.grant(quota, km2=1000, actor="admin", reason="co-funding")
    assert ledger.balance(quota).remaining_km2 == 6500


def test_the_allowance_is_the_quarter_s_and_kept_once_used(quota_engine: sa.Engine) -> None:
    table = PriceTable.from_dict(
        {"quarterly": {"2026-Q4": {"french-scientist": {"pleiades": 300}}}}
    )
    ledger, quota = Ledger(quota_engine, table), _quota()
    assert ledger.balance(quota).allowance_km2 == 300
    ledger.debit(quota, order_id="o", km2=100, actor="u", reason="r")
    # the allowance recorded when the quota was first used stays, whatever the table says now
    assert Ledger(quota_engine).balance(quota).remaining_km2 == 200


def test_a_quota_needs_a_quarter_and_an_entity() -> None:
    with pytest.raises(InvalidInput, match="quarter"):
        Quota("lab", SCIENTIST, Family.PLEIADES, "2026-10")
    with pytest.raises(InvalidInput, match="entity"):
        Quota("", SCIENTIST, Family.PLEIADES, "2026-Q4")


def test_20_concurrent_debits_never_overdraw_the_quota(quota_engine: sa.Engine) -> None:
    """20 threads, each with its own connection, debit 400 km² of a 5 500 km² quota at once:
    13 fit (5 200 km²), 7 are refused and leave no row."""
    ledger, quota = Ledger(quota_engine), _quota()
    start = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def order(n: int) -> None:
        start.wait()
        try:
            ledger.debit(quota, order_id=f"o{n}", km2=400, actor=f"u{n}", reason="race")
            result = "debited"
        except QuotaExceeded:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=order, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["debited"] * 13 + ["refused"] * 7
    balance = ledger.balance(quota)
    assert balance.debited_km2 == 5200
    assert balance.remaining_km2 == 300
    entries = ledger.entries(quota)
    assert len(entries) == 13
    assert len({e.order_id for e in entries}) == 13
    assert all(e.overage_km2 == 0 for e in entries)
    assert _rows(quota_engine, quota_balances) == 1


def test_20_concurrent_debits_with_overage_split_exactly_once(quota_engine: sa.Engine) -> None:
    """When orders may go beyond the quota, the quota part of all of them adds up to the
    allowance exactly: no two debits counted the same remaining km²."""
    ledger, quota = Ledger(quota_engine), _quota()
    start = threading.Barrier(20)

    def order(n: int) -> None:
        start.wait()
        ledger.debit(quota, order_id=f"o{n}", km2=350, actor=f"u{n}", reason="race",
                     allow_overage=True)  # fmt: skip

    threads = [threading.Thread(target=order, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = ledger.entries(quota)
    assert len(entries) == 20
    assert sum(e.km2 for e in entries) == pytest.approx(5500)
    assert sum(e.overage_km2 for e in entries) == pytest.approx(20 * 350 - 5500)
    assert ledger.balance(quota).remaining_km2 == pytest.approx(0)
