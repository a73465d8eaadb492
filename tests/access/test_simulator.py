"""The profile simulator: each profile's offer read against the seed decks' figures."""

from __future__ import annotations

import pytest

from terrapole.access.licences import CollectionTerms
from terrapole.access.pricing import Family, Package, PriceTable
from terrapole.access.profiles import Profile
from terrapole.access.simulator import Condition, FamilyOffer, offer
from terrapole.errors import InvalidInput

COLLECTIONS = {"pleiades": "Pléiades", "spot": "Spot 6-7", "sentinel-2": "Sentinel-2 L2A"}
TERMS = {
    "pleiades": CollectionTerms(
        "pleiades", ("dinamis",), (Profile.FRENCH_SCIENTIST, Profile.FRENCH_PUBLIC_ACTOR)
    ),
    "spot": CollectionTerms("spot", ("charter", "dinamis"), ()),
}


def _family(profile: Profile, family: Family, table: PriceTable | None = None) -> FamilyOffer:
    found = offer(profile, TERMS, table or PriceTable(), COLLECTIONS, period="2026-Q4")
    return next(f for f in found.families if f.family is family)


def test_a_french_scientist_gets_5500_km2_of_pleiades_then_1_eur_per_km2() -> None:
    pleiades = _family(Profile.FRENCH_SCIENTIST, Family.PLEIADES)
    assert pleiades.quota_km2 == 5500.0
    assert (pleiades.archive_eur_km2, pleiades.tasking_eur_km2) == (1.0, 1.0)
    spot = _family(Profile.FRENCH_SCIENTIST, Family.SPOT)
    assert spot.quota_km2 == 36000.0
    assert spot.packages[0] == Package(18000.0, 5000.0)
    assert spot.packages[-1] == Package(180000.0, 50000.0)


def test_a_public_actor_gets_4000_km2_then_1_4_archive_and_1_8_tasking() -> None:
    pleiades = _family(Profile.FRENCH_PUBLIC_ACTOR, Family.PLEIADES)
    assert pleiades.quota_km2 == 4000.0
    assert (pleiades.archive_eur_km2, pleiades.tasking_eur_km2) == (1.4, 1.8)


def test_private_rd_has_no_free_quota_and_is_served_under_conditions() -> None:
    found = offer(Profile.FRENCH_PRIVATE_RD, TERMS, PriceTable(), COLLECTIONS, period="2026-Q4")
    assert [f.quota_km2 for f in found.families] == [0.0, 0.0]
    assert Condition.PRIVATE_RD_ONLY in found.conditions
    assert Condition.NO_FREE_QUOTA in found.conditions
    assert Condition.FOREIGN_UNDER_CONDITIONS not in found.conditions
    assert found.families[0].archive_eur_km2 == 1.4


def test_foreign_scientists_are_served_under_conditions_and_not_eligible_to_pleiades() -> None:
    found = offer(Profile.FOREIGN_SCIENTIST, TERMS, PriceTable(), COLLECTIONS, period="2026-Q4")
    assert Condition.FOREIGN_UNDER_CONDITIONS in found.conditions
    by_id = {c.collection_id: c for c in found.collections}
    assert not by_id["pleiades"].eligible and by_id["pleiades"].restricted
    # no price and no package for Pléiades: orders stop at the (zero) quota
    assert Condition.NO_OVERAGE in found.conditions


def test_collections_list_eligibility_and_the_licences_each_asks() -> None:
    found = offer(Profile.FRENCH_SCIENTIST, TERMS, PriceTable(), COLLECTIONS, period="2026-Q4")
    assert [c.collection_id for c in found.collections] == ["pleiades", "sentinel-2", "spot"]
    by_id = {c.collection_id: c for c in found.collections}
    assert by_id["pleiades"].eligible and by_id["pleiades"].licences == ("dinamis",)
    assert by_id["spot"].eligible and by_id["spot"].licences == ("charter", "dinamis")
    assert by_id["sentinel-2"].eligible and not by_id["sentinel-2"].restricted
    assert by_id["sentinel-2"].licences == ()


def test_tasking_minimum_and_quarterly_revision_are_always_stated() -> None:
    for profile in Profile:
        found = offer(profile, {}, PriceTable(), {}, period="2026-Q4")
        assert found.tasking_min_km2 == 100.0
        assert Condition.TASKING_MINIMUM in found.conditions
        assert Condition.QUOTA_QUARTERLY in found.conditions
        assert found.conditions[0] is Condition.CATALOGUE_FREE


def test_a_quarter_revised_allowance_replaces_the_usual_one() -> None:
    revised = {"2026-Q4": {"french-scientist": {"pleiades": 3000}}}
    table = PriceTable.from_dict({"quarterly": revised})
    assert _family(Profile.FRENCH_SCIENTIST, Family.PLEIADES, table).quota_km2 == 3000.0
    other = offer(Profile.FRENCH_SCIENTIST, {}, table, {}, period="2027-Q1")
    assert other.families[0].quota_km2 == 5500.0


def test_a_period_that_is_no_quarter_is_refused() -> None:
    with pytest.raises(InvalidInput, match="2026-13"):
        offer(Profile.TEACHING, {}, PriceTable(), {}, period="2026-13")
