"""Legends of presets: the colour ramp of a value rendering, the palette of a classification.

``legend(preset, item)`` says what the colours of a tile rendered with ``preset`` mean for that
item: a ramp (CSS colours, low to high, with the values at both ends and their unit) or the
classes of the product's palette. Renderings of bands as they are (true colour, hillshade) have
no legend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rio_tiler.colormap import cmap

from terrapole.jsontypes import Json
from terrapole.maps.presets import Preset, resolve

RAMP_STOPS = 11  # colours sampled from a 256-entry colormap: enough for a CSS gradient


@dataclass(frozen=True)
class LegendClass:
    """One class of a palette: its value, its name and its CSS colour."""

    value: int
    name: str
    color: str


@dataclass(frozen=True)
class Legend:
    """What the colours of a rendering mean: a ramp (``colors`` low to high between ``low``
    and ``high``) or a palette (``classes``)."""

    preset: str
    kind: str  # "ramp" or "classes"
    colors: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    unit: str = ""
    classes: tuple[LegendClass, ...] = field(default_factory=tuple)


def ramp_colors(name: str, stops: int = RAMP_STOPS) -> tuple[str, ...]:
    """``stops`` CSS colours evenly sampled from rio-tiler's colormap ``name``."""
    table: dict[int, Sequence[int]] = cmap.get(name)  # type: ignore[assignment]
    picks = [round(i * 255 / (stops - 1)) for i in range(stops)]
    return tuple("#{:02x}{:02x}{:02x}".format(*(int(c) for c in table[i][:3])) for i in picks)


def _range(preset: Preset, item: Json) -> tuple[float | None, float | None]:
    if preset.value_range:
        return preset.value_range
    if preset.reflectance_range:
        return preset.reflectance_range
    rescale = resolve(preset.name, item).get("rescale")  # elevation: the raster's statistics
    if rescale:
        low, high = (float(v) for v in str(rescale[0]).split(","))
        return low, high
    return None, None


def legend(preset: Preset, item: Json) -> Legend | None:
    """The legend of ``preset`` drawn for ``item`` (which must have its bands), or None."""
    if preset.name == "classes":
        key = resolve(preset.name, item)["assets"][0]
        classes = item["assets"][key].get("classification:classes", [])
        return Legend(
            preset.name,
            "classes",
            classes=tuple(
                LegendClass(int(c["value"]), str(c.get("description") or c.get("name") or
                                                 c["value"]), f"#{c.get('color_hint', '000000')}")
                for c in classes
            ),
        )  # fmt: skip
    if not preset.colormap:
        return None
    low, high = _range(preset, item)
    units = {"fsc": "%", "occurrence": "%", "elevation": "m"}
    unit = units.get(preset.name, "")
    return Legend(preset.name, "ramp", ramp_colors(preset.colormap), low, high, unit)
