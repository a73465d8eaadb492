"""The chains terrapole knows, by name, in the order they should run (inputs first).

Chains are made from the caller's Settings (the land-cover chain takes its training polygons
from them); nothing here reads the environment.
"""

from __future__ import annotations

from terrapole.config import Settings
from terrapole.errors import InvalidInput
from terrapole.production.chain import Chain
from terrapole.production.index_chain import IndexProduct
from terrapole.production.landcover_chain import LandCoverYearly
from terrapole.production.snow_chain import SnowProduct, SnowYearly
from terrapole.production.wasp_chain import WaspMonthly
from terrapole.production.water_chain import WaterProduct, WaterYearly


def chains(settings: Settings) -> dict[str, Chain]:
    """Every chain by name, in run order, set up from ``settings``."""
    made: tuple[Chain, ...] = (
        IndexProduct(), SnowProduct(), WaterProduct(), WaspMonthly(), SnowYearly(), WaterYearly(),
        LandCoverYearly(settings.landcover_training),
    )  # fmt: skip
    return {chain.name: chain for chain in made}


def chain(name: str, settings: Settings) -> Chain:
    """The chain called ``name`` set up from ``settings`` (InvalidInput naming the known ones)."""
    known = chains(settings)
    try:
        return known[name]
    except KeyError:
        raise InvalidInput("chain", f"{name!r} is not one of {', '.join(known)}") from None
