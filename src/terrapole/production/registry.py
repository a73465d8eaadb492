"""The chains terrapole knows, by name, in the order they should run (inputs first)."""

from __future__ import annotations

from terrapole.errors import InvalidInput
from terrapole.production.chain import Chain
from terrapole.production.index_chain import IndexProduct
from terrapole.production.landcover_chain import LandCoverYearly
from terrapole.production.snow_chain import SnowProduct, SnowYearly
from terrapole.production.wasp_chain import WaspMonthly
from terrapole.production.water_chain import WaterProduct, WaterYearly

CHAINS: dict[str, Chain] = {
    chain.name: chain
    for chain in (
        IndexProduct(), SnowProduct(), WaterProduct(), WaspMonthly(), SnowYearly(), WaterYearly(),
        LandCoverYearly(),
    )
}  # fmt: skip


def chain(name: str) -> Chain:
    """The chain called ``name`` (InvalidInput naming the known ones otherwise)."""
    try:
        return CHAINS[name]
    except KeyError:
        raise InvalidInput("chain", f"{name!r} is not one of {', '.join(CHAINS)}") from None
