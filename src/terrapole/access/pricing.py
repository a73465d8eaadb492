"""DINAMIS price table: km² allowances per profile, prices beyond them, packages; quotes.

The defaults are the figures of the seed decks (cited per value below); a deployment replaces
them with :meth:`PriceTable.from_dict`. Quoting is pure: the km² of an order and the quota
left in, the part the quota covers, the overage and its price out.

Reading of the seeds (the decks are slides flattened to text, so the table layout is lost):
deck 001_6615210a8a5caf5a.txt lines 434-462 ("Combien cela coûte ?") gives the free quota
(Pléiades: scientists 5 500 km², public actors 4 000 km², private entities 0; Spot 6-7:
10 telemetry credits = 36 000 km² for institutional users), the overage prices (1.4 €/km²
archive, 1.8 €/km² tasking; 1 €/km²) and says the quota is revised each quarter;
deck 000_a02bede4c2ac18b6.txt lines 567-569 ties 1 €/km² to French scientists and
1.4 / 1.8 €/km² (archive / tasking) to French public actors and private R&D, and lines
576-579 give the Spot packages (18 000 km² for 5 k€ ... 180 000 km² for 50 k€).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from terrapole.access.profiles import Profile
from terrapole.errors import InvalidInput

_E = TypeVar("_E", bound=StrEnum)
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def quarter(when: datetime) -> str:
    """The quota period holding ``when``: quotas run per calendar quarter.

    >>> quarter(datetime(2026, 11, 3))
    '2026-Q4'
    """
    return f"{when.year:04d}-Q{(when.month - 1) // 3 + 1}"


def check_quarter(period: str) -> str:
    """``period`` when it names a quarter ("2026-Q4"); :class:`InvalidInput` otherwise."""
    if not isinstance(period, str) or not _QUARTER.match(period):
        raise InvalidInput("period", f"a quarter such as 2026-Q4 is required, not {period!r}")
    return period


class Family(StrEnum):
    """A quota family: the sensor whose km² a quota counts."""

    PLEIADES = "pleiades"
    SPOT = "spot"


class Kind(StrEnum):
    """Archive images (already acquired) or tasking (a new acquisition)."""

    ARCHIVE = "archive"
    TASKING = "tasking"


@dataclass(frozen=True)
class Package:
    """A block of km² sold at one price."""

    km2: float
    eur: float


@dataclass(frozen=True)
class Quote:
    """What an order costs: its km², the part the quota covers, the rest and its price."""

    km2: float
    quota_used: float
    overage_km2: float
    price_eur: float


_S, _P, _R = Profile.FRENCH_SCIENTIST, Profile.FRENCH_PUBLIC_ACTOR, Profile.FRENCH_PRIVATE_RD

DEFAULT_ALLOWANCES: dict[tuple[Profile, Family], float] = {
    # deck 001 lines 438-440: "Scientifiques : 5 500 km2 / Publics : 4 000 km2 /
    # Entités privées : 0"
    (_S, Family.PLEIADES): 5500.0,
    (_P, Family.PLEIADES): 4000.0,
    (_R, Family.PLEIADES): 0.0,
    # deck 001 lines 442-443: "Par UIA/demande 10 crédits de télémesure (36 000 km2)", institutional
    (_S, Family.SPOT): 36000.0,
    (_P, Family.SPOT): 36000.0,
    (_R, Family.SPOT): 0.0,
}
"""km² per quarter; a profile not listed has no free quota."""

DEFAULT_PRICES: dict[tuple[Profile, Family, Kind], float] = {
    # deck 000 line 567 "Scientifique FR 1 € / km²", deck 001 line 452 "1 € / km2"
    (_S, Family.PLEIADES, Kind.ARCHIVE): 1.0,
    (_S, Family.PLEIADES, Kind.TASKING): 1.0,
    # deck 000 lines 568-569 and deck 001 lines 449-450: "1,4 € / km2 archive", "1,8 € / km2
    # programmation" for public actors and private R&D
    (_P, Family.PLEIADES, Kind.ARCHIVE): 1.4,
    (_P, Family.PLEIADES, Kind.TASKING): 1.8,
    (_R, Family.PLEIADES, Kind.ARCHIVE): 1.4,
    (_R, Family.PLEIADES, Kind.TASKING): 1.8,
}
"""€ per km² beyond the quota; a (profile, family, kind) not listed may not go beyond it."""

DEFAULT_PACKAGES: dict[Family, tuple[Package, ...]] = {
    # deck 000 lines 576-579: "18 000 km² : 5 k€ / 36 000 km² : 10 k€ / 72 000 km² : 20 k€ /
    # 180 000 km² : 50 k€" (Spot 6-7)
    Family.SPOT: (
        Package(18000.0, 5000.0),
        Package(36000.0, 10000.0),
        Package(72000.0, 20000.0),
        Package(180000.0, 50000.0),
    ),
}
"""Blocks of km² a family's overage may be bought in (the cheapest cover is quoted)."""


@dataclass(frozen=True)
class PriceTable:
    """Allowances, prices and packages; :meth:`allowance` and :func:`quote` read it."""

    allowances: Mapping[tuple[Profile, Family], float] = field(
        default_factory=lambda: dict(DEFAULT_ALLOWANCES)
    )
    prices: Mapping[tuple[Profile, Family, Kind], float] = field(
        default_factory=lambda: dict(DEFAULT_PRICES)
    )
    packages: Mapping[Family, tuple[Package, ...]] = field(
        default_factory=lambda: dict(DEFAULT_PACKAGES)
    )
    quarterly: Mapping[tuple[Profile, Family, str], float] = field(default_factory=dict)
    """Allowances of one quarter ("2026-Q4") that replace the usual one (quotas are revised
    each quarter: deck 001 line 462, "Quota évolutif trimestriellement")."""

    def allowance(self, profile: Profile, family: Family, period: str) -> float:
        """The free km² of ``profile`` for ``family`` in the quarter ``period``."""
        revised = self.quarterly.get((profile, family, period))
        return revised if revised is not None else self.allowances.get((profile, family), 0.0)

    def may_exceed(self, profile: Profile, family: Family, kind: Kind) -> bool:
        """Whether an order of ``profile`` may go beyond the quota (a price or packages exist)."""
        return (profile, family, kind) in self.prices or bool(self.packages.get(family))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceTable:
        """A table from configuration; keys absent keep the seed defaults.

        >>> PriceTable.from_dict({
        ...     "allowances": {"french-scientist": {"pleiades": 6000}},
        ...     "prices": {"french-public-actor": {"pleiades": {"archive": 1.5}}},
        ...     "packages": {"spot": [{"km2": 18000, "eur": 5000}]},
        ...     "quarterly": {"2026-Q4": {"french-scientist": {"pleiades": 3000}}},
        ... }).allowance(Profile.FRENCH_SCIENTIST, Family.PLEIADES, "2026-Q4")
        3000.0
        """
        unknown = set(data) - {"allowances", "prices", "packages", "quarterly"}
        if unknown:
            raise InvalidInput("price table", f"unknown keys {sorted(unknown)}")
        allowances = dict(DEFAULT_ALLOWANCES)
        for (profile, family), value in _nested(data.get("allowances", {}), 2, "allowances"):
            allowances[Profile(profile), Family(family)] = _km2(value, "allowances")
        prices = dict(DEFAULT_PRICES)
        for (profile, family, kind), value in _nested(data.get("prices", {}), 3, "prices"):
            prices[Profile(profile), Family(family), Kind(kind)] = _km2(value, "prices")
        packages = dict(DEFAULT_PACKAGES)
        for family, blocks in dict(data.get("packages", {})).items():
            packages[_enum(Family, family, "packages")] = tuple(
                Package(_km2(b["km2"], "packages"), _km2(b["eur"], "packages")) for b in blocks
            )
        quarterly: dict[tuple[Profile, Family, str], float] = {}
        for (period, profile, family), value in _nested(data.get("quarterly", {}), 3, "quarterly"):
            key = (Profile(profile), Family(family), check_quarter(period))
            quarterly[key] = _km2(value, "quarterly")
        return cls(allowances, prices, packages, quarterly)


def _enum(kind: type[_E], value: str, where: str) -> _E:
    try:
        return kind(value)
    except ValueError as exc:
        allowed = ", ".join(kind)
        raise InvalidInput(f"price table {where}", f"{value!r} is not one of {allowed}") from exc


def _nested(data: Any, depth: int, where: str) -> list[tuple[tuple[str, ...], Any]]:
    """Leaves of a mapping nested ``depth`` deep with their key paths; names checked."""
    kinds: list[type[StrEnum]] = {
        "allowances": [Profile, Family],
        "prices": [Profile, Family, Kind],
        "quarterly": [Profile, Family],
    }[where]
    found: list[tuple[tuple[str, ...], Any]] = [((), data)]
    for level in range(depth):
        deeper = []
        for keys, value in found:
            if not isinstance(value, Mapping):
                raise InvalidInput(
                    f"price table {where}", f"{'.'.join(keys) or where} is not a table"
                )
            for key, inner in value.items():
                offset = level - (depth - len(kinds))
                if offset >= 0:
                    _enum(kinds[offset], key, where)
                deeper.append(((*keys, str(key)), inner))
        found = deeper
    return found


def _km2(value: Any, where: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidInput(f"price table {where}", f"{value!r} is not a number ≥ 0")
    return float(value)


def packages_price(blocks: tuple[Package, ...], km2: float) -> float:
    """The cheapest total price of packages whose km² cover ``km2`` (any number of each).

    A small unbounded covering knapsack, counted in units of the packages' greatest common
    size, so the seed's Spot blocks (multiples of 18 000 km²) take a few steps.

    >>> packages_price(DEFAULT_PACKAGES[Family.SPOT], 20000)
    10000.0
    """
    if km2 <= 0:
        return 0.0
    sizes = [int(round(b.km2)) for b in blocks if b.km2 > 0]
    unit = math.gcd(*sizes) if sizes else 0
    if unit == 0:
        raise InvalidInput("price table packages", "no package has a size")
    need = math.ceil(km2 / unit - 1e-9)
    best = [0.0] + [math.inf] * need
    for units in range(1, need + 1):
        best[units] = min(
            best[max(0, units - int(round(b.km2)) // unit)] + b.eur for b in blocks if b.km2 > 0
        )
    return best[need]


def quote(
    *,
    km2: float,
    remaining_km2: float,
    profile: Profile,
    family: Family,
    kind: Kind,
    table: PriceTable | None = None,
) -> Quote:
    """What an order of ``km2`` costs when ``remaining_km2`` of the quota is left.

    The quota covers what it can; the rest is priced per km² or, for a family sold in
    packages, by the cheapest packages covering it (the lower of both when a family has both).
    A profile with neither may not go beyond its quota: :class:`InvalidInput`.

    >>> quote(km2=6000, remaining_km2=5500, profile=Profile.FRENCH_PUBLIC_ACTOR,
    ...       family=Family.PLEIADES, kind=Kind.ARCHIVE)
    Quote(km2=6000, quota_used=5500, overage_km2=500, price_eur=700.0)
    """
    table = table or PriceTable()
    if not math.isfinite(km2) or km2 <= 0:
        raise InvalidInput("km2", f"an order covers a positive area, not {km2!r}")
    used = min(km2, max(remaining_km2, 0.0))
    overage = km2 - used
    if overage <= 0:
        return Quote(km2, used, 0.0, 0.0)
    candidates = []
    per_km2 = table.prices.get((profile, family, kind))
    if per_km2 is not None:
        candidates.append(round(overage * per_km2, 2))
    blocks = table.packages.get(family)
    if blocks:
        candidates.append(packages_price(blocks, overage))
    if not candidates:
        raise InvalidInput(
            "order",
            f"{overage:.1f} km² beyond the {family} quota, and profile {profile} has no "
            f"{kind} price beyond it",
        )
    return Quote(km2, used, overage, min(candidates))
