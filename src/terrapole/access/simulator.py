"""The profile simulator ("Quels accès DINAMIS pour votre profil ?"): what one profile gets.

Pure: from a profile, the collections' declared terms, the price table and the quarter, the
collections it is eligible to (and the licences each asks), its free km² per quota family
this quarter, the prices beyond them, the packages and the conditions that apply. The
conditions are the seed decks' (deck 001 lines 316-319: foreign scientists and French
private R&D "sous conditions"; deck 000 line 480: tasking "100 km² minimum"; deck 001 lines
434-462: the catalogue is free, quotas are revised each quarter).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from terrapole.access.areas import TASKING_MIN_KM2
from terrapole.access.eligibility import Terms
from terrapole.access.pricing import Family, Kind, Package, PriceTable, check_quarter
from terrapole.access.profiles import Profile


class Condition(StrEnum):
    """A condition of the offer; the adapters word it in each language."""

    CATALOGUE_FREE = "catalogue-free"
    """Browsing and downloading the catalogue costs nothing."""
    FOREIGN_UNDER_CONDITIONS = "foreign-under-conditions"
    """Foreign scientists are served under conditions (European labs, nature of the data)."""
    PRIVATE_RD_ONLY = "private-rd-only"
    """French private actors are served for R&D only, under conditions."""
    TASKING_MINIMUM = "tasking-minimum"
    """A tasking request covers at least :data:`TASKING_MIN_KM2`."""
    QUOTA_QUARTERLY = "quota-quarterly"
    """Free quotas are revised each quarter."""
    NO_FREE_QUOTA = "no-free-quota"
    """The profile has no free km² this quarter: every order is paid."""
    NO_OVERAGE = "no-overage"
    """Some family has neither a price nor packages for this profile: orders stop at the quota."""


@dataclass(frozen=True)
class CollectionOffer:
    """One collection for the profile: eligible or not, and the licences it asks."""

    collection_id: str
    title: str
    eligible: bool
    licences: tuple[str, ...]
    restricted: bool
    """Whether the collection declares terms at all (else anyone may read it)."""


@dataclass(frozen=True)
class FamilyOffer:
    """One quota family for the profile: free km² this quarter, € per km² beyond, packages."""

    family: Family
    quota_km2: float
    archive_eur_km2: float | None
    tasking_eur_km2: float | None
    packages: tuple[Package, ...]

    @property
    def may_exceed(self) -> bool:
        """Whether orders may go beyond the quota (a price or packages exist)."""
        priced = self.archive_eur_km2 is not None or self.tasking_eur_km2 is not None
        return priced or bool(self.packages)


@dataclass(frozen=True)
class Offer:
    """What a profile gets in one quarter."""

    profile: Profile
    period: str
    collections: tuple[CollectionOffer, ...]
    families: tuple[FamilyOffer, ...]
    conditions: tuple[Condition, ...]
    tasking_min_km2: float = TASKING_MIN_KM2


def offer(
    profile: Profile,
    terms: Mapping[str, Terms],
    price_table: PriceTable,
    collections: Mapping[str, str],
    *,
    period: str,
) -> Offer:
    """The offer to ``profile`` in the quarter ``period`` over ``collections`` (id → title).

    >>> o = offer(Profile.FRENCH_SCIENTIST, {}, PriceTable(), {"s2": "Sentinel-2"},
    ...           period="2026-Q4")
    >>> o.families[0].quota_km2, o.collections[0].eligible
    (5500.0, True)
    """
    check_quarter(period)
    listed = tuple(
        _collection(profile, cid, collections[cid], terms.get(cid)) for cid in sorted(collections)
    )
    families = tuple(_family(profile, family, price_table, period) for family in Family)
    return Offer(profile, period, listed, families, _conditions(profile, families))


def _collection(profile: Profile, cid: str, title: str, declared: Terms | None) -> CollectionOffer:
    if declared is None or not (declared.licences or declared.profiles):
        return CollectionOffer(cid, title, True, (), False)
    eligible = not declared.profiles or profile in declared.profiles
    return CollectionOffer(cid, title, eligible, tuple(sorted(declared.licences)), True)


def _family(profile: Profile, family: Family, table: PriceTable, period: str) -> FamilyOffer:
    return FamilyOffer(
        family,
        table.allowance(profile, family, period),
        table.prices.get((profile, family, Kind.ARCHIVE)),
        table.prices.get((profile, family, Kind.TASKING)),
        tuple(table.packages.get(family, ())),
    )


def _conditions(profile: Profile, families: tuple[FamilyOffer, ...]) -> tuple[Condition, ...]:
    found = [Condition.CATALOGUE_FREE]
    if profile is Profile.FOREIGN_SCIENTIST:
        found.append(Condition.FOREIGN_UNDER_CONDITIONS)
    if profile is Profile.FRENCH_PRIVATE_RD:
        found.append(Condition.PRIVATE_RD_ONLY)
    found += [Condition.TASKING_MINIMUM, Condition.QUOTA_QUARTERLY]
    if all(f.quota_km2 <= 0 for f in families):
        found.append(Condition.NO_FREE_QUOTA)
    if any(not f.may_exceed for f in families):
        found.append(Condition.NO_OVERAGE)
    return tuple(found)
