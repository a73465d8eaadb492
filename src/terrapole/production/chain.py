"""What a production chain declares: inputs, windows (its cadence), outputs.

A chain turns the catalogue's items of an input collection into output items: per input
product (``per-product``), per month (``monthly``: synthesis date D0 on the 15th) or per year
(``yearly``: calendar year, or the snow year from 1 September). The runner
(:mod:`terrapole.production.runner`) finds each window's inputs, skips windows whose inputs and
parameters did not change, loads the inputs lazily (:mod:`terrapole.cube.loading`), asks
the chain for its output layers (dask arrays built from :mod:`terrapole.processing`), writes
them chunk by chunk on the Dask cluster and publishes the item.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, Literal

import xarray as xr

from terrapole.errors import InvalidInput
from terrapole.jsontypes import Json

Cadence = Literal["per-product", "monthly", "yearly"]
BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Window:
    """A unit of production: the period whose inputs make one output item.

    ``key`` goes into the output id; ``item`` is the input id of a per-product window.
    """

    key: str
    start: datetime
    end: datetime
    centre: date
    item: str | None = None

    def closed(self, now: datetime) -> bool:
        """True once the period is over (its output will not get new inputs by time alone)."""
        return self.end <= now


@dataclass(frozen=True)
class Area:
    """Where to produce: a tile of the input products (``theia:tile``) and/or a bbox."""

    tile: str | None = None
    bbox: BBox | None = None

    @property
    def name(self) -> str:
        """The area's part of output ids: the tile, else the bbox rounded to 0.01°."""
        if self.tile:
            return self.tile
        if self.bbox is None:
            return "ALL"
        return "BBOX" + "_".join(f"{v:.2f}" for v in self.bbox).replace("-", "m")

    def filter(self) -> Json | None:
        """The CQL2 filter selecting the tile's products (None without a tile)."""
        if not self.tile:
            return None
        return {"op": "=", "args": [{"property": "theia:tile"}, self.tile]}


@dataclass(frozen=True)
class Auxiliary:
    """An auxiliary input a chain reads besides its input collection (a DEM, a tree cover map,
    another chain's product): the runner finds its items over the window's inputs before
    anything is computed, links them (``derived_from``) and puts them in the fingerprint, so a
    changed DEM re-produces the products made with it. ``same_day``: only items acquired on the
    day of the window's product (another chain's per-product output)."""

    collection: str
    asset: str
    same_day: bool = False


@dataclass
class Layer:
    """One output raster: a 2-D (y, x) array (lazy) and how to describe it as an asset."""

    key: str
    data: Any  # xarray.DataArray (dask-backed), on the chain's output grid
    title: str
    roles: tuple[str, ...] = ("data",)
    nodata: float | None = None
    scale: float = 1.0
    band: str | None = None  # spectral band name for reflectance layers
    unit: str | None = None
    classes: tuple[dict[str, Any], ...] = ()


@dataclass
class Output:
    """What a chain made of a window: its layers and the item properties it adds (a property
    computed from the same inputs is a one-element dask array, computed with the layers)."""

    layers: list[Layer]
    properties: dict[str, Any] = field(default_factory=dict)
    rgb: tuple[str, str, str] | None = None
    valid_from: str | None = None


@dataclass
class Context:
    """What a chain gets for one window: inputs, loaders and auxiliary data lookups."""

    window: Window
    area: Area
    inputs: list[Json]
    load: Callable[..., xr.Dataset]  # (keys, resolution, resampling='nearest', chunk): one grid
    load_bands: Callable[..., xr.DataArray]  # (keys, resolution, chunk, like): (t, band, y, x)
    # (collection, asset, like): a declared auxiliary's items mosaicked on ``like``'s grid
    auxiliary: Callable[[str, str, xr.Dataset], xr.DataArray | None]


class Chain(ABC):
    """A declared production chain (subclasses set the class attributes)."""

    name: ClassVar[str]
    title: ClassVar[str]
    cadence: ClassVar[Cadence]
    input_collection: ClassVar[str]
    output_collection: ClassVar[str]
    prefix: ClassVar[str]  # output ids: PREFIX_<area>_<window key> or PREFIX_<input id>
    collection_title: ClassVar[str]
    collection_description: ClassVar[str]
    level: ClassVar[str] = "L3"
    # the modules whose code makes the outputs (the chain's own module is always one of them):
    # their source and the parameters give the chain's version (see ``provenance``), so a
    # changed kernel or parameter re-produces every window
    algorithm_modules: ClassVar[tuple[str, ...]] = ()
    auxiliaries: ClassVar[tuple[Auxiliary, ...]] = ()
    # each way the chain knowingly departs from its reference (docs/algorithms.md, the reference
    # code); written into every output item and listed in docs/algorithms.md
    deviations: ClassVar[tuple[str, ...]] = ()

    def parameters(self) -> dict[str, Any]:
        """The chain's parameters (they enter the fingerprint and the items' provenance)."""
        return {}

    def unavailable(self) -> str | None:
        """Why the chain cannot run with the current settings (None: it can)."""
        return None

    def windows(self, start: date, end: date) -> Iterator[Window]:
        """The windows of the period for monthly and yearly chains (per-product: none)."""
        return iter(())

    def output_id(self, window: Window, area: Area) -> str:
        """The output item id of a window."""
        if window.item is not None:
            return f"{self.prefix}_{window.item}"
        return f"{self.prefix}_{area.name}_{window.key}"

    @abstractmethod
    def produce(self, context: Context) -> Output:
        """The output layers of one window (lazy arrays; the runner computes and writes them)."""


def monthly_windows(start: date, end: date, half_days: int) -> Iterator[Window]:
    """One window per month from ``start`` to ``end``: D0 on the 15th, D0 ± ``half_days``."""
    day = date(start.year, start.month, 15)
    while day <= end:
        yield Window(
            key=f"{day:%Y%m%d}",
            start=_at(day - timedelta(days=half_days), 0),
            end=_at(day + timedelta(days=half_days), 24),
            centre=day,
        )
        day = date(day.year + day.month // 12, day.month % 12 + 1, 15)


def yearly_windows(start: date, end: date, first_month: int = 1) -> Iterator[Window]:
    """One window per year starting on the 1st of ``first_month`` (9: the snow year)."""
    year = start.year if start.month >= first_month else start.year - 1
    while date(year, first_month, 1) <= end:
        begin = date(year, first_month, 1)
        stop = date(year + 1, first_month, 1)
        key = f"{year}" if first_month == 1 else f"{year}-{year + 1}"
        yield Window(key=key, start=_at(begin, 0), end=_at(stop, 0), centre=begin)
        year += 1


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour)


def item_day(item: Json) -> date:
    """The acquisition date of an item."""
    text = item["properties"].get("datetime") or item["properties"]["start_datetime"]
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def require_assets(inputs: list[Json], keys: tuple[str, ...]) -> None:
    """Refuse, naming the item and the assets, when an input lacks what the chain reads."""
    for item in inputs:
        missing = [k for k in keys if k not in item.get("assets", {})]
        if missing:
            raise InvalidInput("inputs", f"{item['id']} has no {', '.join(missing)} asset")
