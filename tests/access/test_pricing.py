"""The price table: seed defaults, configuration, quarters, quotes and packages."""

from __future__ import annotations

from datetime import datetime

import pytest

from terrapole.access.pricing import (
    DEFAULT_PACKAGES,
    Family,
    Kind,
    Package,
    PriceTable,
    check_quarter,
    packages_price,
    quarter,
    quote,
)
from terrapole.access.profiles import Profile
from terrapole.errors import InvalidInput

SCIENTIST, PUBLIC, PRIVATE = (
    Profile.FRENCH_SCIENTIST, Profile.FRENCH_PUBLIC_ACTOR, Profile.FRENCH_PRIVATE_RD,
)  # fmt: skip
PLEIADES, SPOT = Family.PLEIADES, Family.SPOT


def test_the_seed_allowances_are_the_defaults() -> None:
    table = PriceTable()
    assert table.allowance(SCIENTIST, PLEIADES, "2026-Q4") == 5500
    assert table.allowance(PUBLIC, PLEIADES, "2026-Q4") == 4000
    assert table.allowance(PRIVATE, PLEIADES, "2026-Q4") == 0
    assert table.allowance(Profile.TEACHING, PLEIADES, "2026-Q4") == 0
    assert table.allowance(SCIENTIST, SPOT, "2026-Q4") == 36000


def test_within_the_quota_an_order_is_free() -> None:
    q = quote(km2=1200, remaining_km2=5500, profile=SCIENTIST, family=PLEIADES, kind=Kind.ARCHIVE)
    assert (q.km2, q.quota_used, q.overage_km2, q.price_eur) == (1200, 1200, 0, 0)


@pytest.mark.parametrize(
    ("profile", "kind", "per_km2"),
    [
        (SCIENTIST, Kind.ARCHIVE, 1.0), (SCIENTIST, Kind.TASKING, 1.0),
        (PUBLIC, Kind.ARCHIVE, 1.4), (PUBLIC, Kind.TASKING, 1.8),
        (PRIVATE, Kind.ARCHIVE, 1.4), (PRIVATE, Kind.TASKING, 1.8),
    ],
)  # fmt: skip
def test_beyond_the_quota_the_seed_price_per_km2_applies(
    profile: Profile, kind: Kind, per_km2: float
) -> None:
    q = quote(km2=1000, remaining_km2=250, profile=profile, family=PLEIADES, kind=kind)
    assert q.quota_used == 250
    assert q.overage_km2 == 750
    assert q.price_eur == pytest.approx(750 * per_km2)


def test_an_exhausted_or_overdrawn_quota_covers_nothing() -> None:
    q = quote(km2=100, remaining_km2=-50, profile=PRIVATE, family=PLEIADES, kind=Kind.ARCHIVE)
    assert (q.quota_used, q.overage_km2, q.price_eur) == (0, 100, 140.0)


def test_spot_overage_is_sold_in_the_cheapest_packages() -> None:
    blocks = DEFAULT_PACKAGES[SPOT]
    assert packages_price(blocks, 1) == 5000
    assert packages_price(blocks, 18000) == 5000
    assert packages_price(blocks, 18001) == 10000
    assert packages_price(blocks, 100000) == 30000  # 6 × 18 000 km² (108 000) for 6 × 5 k€
    q = quote(km2=40000, remaining_km2=36000, profile=PUBLIC, family=SPOT, kind=Kind.ARCHIVE)
    assert (q.quota_used, q.overage_km2, q.price_eur) == (36000, 4000, 5000)


def test_a_cheaper_large_package_wins() -> None:
    blocks = (Package(10, 10), Package(100, 50))
    assert packages_price(blocks, 60) == 50
    assert packages_price(blocks, 110) == 60


def test_a_profile_without_a_price_may_not_exceed_its_quota() -> None:
    with pytest.raises(InvalidInput, match="no archive price"):
        quote(km2=10, remaining_km2=0, profile=Profile.TEACHING, family=PLEIADES,
              kind=Kind.ARCHIVE)  # fmt: skip
    assert not PriceTable().may_exceed(Profile.TEACHING, PLEIADES, Kind.ARCHIVE)
    assert PriceTable().may_exceed(Profile.TEACHING, SPOT, Kind.ARCHIVE)  # packages


@pytest.mark.parametrize("km2", [0, -5, float("nan"), float("inf")])
def test_a_quote_of_no_area_is_refused(km2: float) -> None:
    with pytest.raises(InvalidInput, match="positive area"):
        quote(km2=km2, remaining_km2=10, profile=SCIENTIST, family=PLEIADES, kind=Kind.ARCHIVE)


def test_quarters() -> None:
    assert quarter(datetime(2026, 1, 1)) == "2026-Q1"
    assert quarter(datetime(2026, 3, 31)) == "2026-Q1"
    assert quarter(datetime(2026, 4, 1)) == "2026-Q2"
    assert quarter(datetime(2026, 12, 31)) == "2026-Q4"
    assert check_quarter("2026-Q3") == "2026-Q3"
    for bad in ("2026-Q5", "2026Q1", "26-Q1", "2026-q1"):
        with pytest.raises(InvalidInput, match="quarter"):
            check_quarter(bad)


def test_a_configured_table_overrides_the_seeds_and_revises_a_quarter() -> None:
    table = PriceTable.from_dict({
        "allowances": {"french-public-actor": {"pleiades": 4500}},
        "prices": {"french-public-actor": {"pleiades": {"archive": 2.0}}},
        "packages": {"pleiades": [{"km2": 1000, "eur": 900}]},
        "quarterly": {"2027-Q1": {"french-scientist": {"pleiades": 2000}}},
    })  # fmt: skip
    assert table.allowance(PUBLIC, PLEIADES, "2026-Q4") == 4500
    assert table.allowance(SCIENTIST, PLEIADES, "2027-Q1") == 2000
    assert table.allowance(SCIENTIST, PLEIADES, "2027-Q2") == 5500  # the usual one again
    assert table.prices[PUBLIC, PLEIADES, Kind.TASKING] == 1.8  # untouched default
    q = quote(km2=1000, remaining_km2=0, profile=PUBLIC, family=PLEIADES, kind=Kind.ARCHIVE,
              table=table)  # fmt: skip
    assert q.price_eur == 900  # the package is cheaper than 2 €/km²


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"allowance": {}}, "unknown keys"),
        ({"allowances": {"astronaut": {"pleiades": 1}}}, "'astronaut' is not one of"),
        ({"allowances": {"teaching": {"landsat": 1}}}, "'landsat' is not one of"),
        ({"allowances": {"teaching": {"pleiades": -1}}}, "not a number ≥ 0"),
        ({"allowances": {"teaching": {"pleiades": "many"}}}, "not a number ≥ 0"),
        ({"prices": {"teaching": {"pleiades": {"rental": 1}}}}, "'rental' is not one of"),
        ({"prices": {"teaching": 3}}, "is not a table"),
        ({"quarterly": {"2027-Q9": {"teaching": {"pleiades": 1}}}}, "quarter"),
        ({"packages": {"landsat": []}}, "'landsat' is not one of"),
    ],
)
def test_a_bad_table_is_refused_naming_the_entry(data: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        PriceTable.from_dict(data)
