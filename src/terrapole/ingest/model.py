"""What a reader hands to ingest: a product's rasters and metadata, before any byte is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

# Sentinel-2 MSI bands: (common name, centre wavelength µm, full width at half maximum µm, gsd m).
S2_BANDS: dict[str, tuple[str | None, float, float, int]] = {
    "B1": ("coastal", 0.443, 0.027, 60),
    "B2": ("blue", 0.490, 0.098, 10),
    "B3": ("green", 0.560, 0.045, 10),
    "B4": ("red", 0.665, 0.038, 10),
    "B5": ("rededge", 0.705, 0.019, 20),
    "B6": ("rededge", 0.740, 0.018, 20),
    "B7": ("rededge", 0.783, 0.028, 20),
    "B8": ("nir", 0.842, 0.145, 10),
    "B8A": ("nir08", 0.865, 0.033, 20),
    "B9": ("nir09", 0.945, 0.026, 60),
    "B10": ("cirrus", 1.375, 0.075, 60),
    "B11": ("swir16", 1.610, 0.143, 20),
    "B12": ("swir22", 2.190, 0.242, 20),
}


@dataclass(frozen=True)
class Raster:
    """One raster file of a product, to become one COG asset.

    ``path`` is what GDAL opens (a file, or ``/vsizip/…`` inside an archive). ``band`` names
    the spectral band (a key of S2_BANDS) for reflectance rasters; masks and classifications
    have none. ``index`` is the band of the file to take (1-based).
    ``nodata``/``scale``/``offset`` describe the stored numbers.
    """

    key: str
    path: str
    title: str
    roles: tuple[str, ...]
    band: str | None = None
    nodata: float | None = None
    scale: float = 1.0
    offset: float = 0.0
    unit: str | None = None
    description: str | None = None
    index: int = 1
    classes: tuple[dict[str, Any], ...] = ()  # classification:classes (value, description, colour)


@dataclass
class Product:
    """A product as a reader understood it: identity, time, rasters and known metadata."""

    source: Path
    format: str
    id: str
    collection: str
    datetime: datetime | None
    rasters: list[Raster]
    properties: dict[str, Any] = field(default_factory=dict)
    rgb: tuple[str, str, str] | None = None
    valid_from: str | None = None
    cloud_mask: str | None = None
    cloudy_values: tuple[int, ...] | None = None  # None: any non-zero mask value is cloud
    missing: list[str] = field(default_factory=list)
    collection_defaults: dict[str, Any] = field(default_factory=dict)  # for a new collection
    reader: str = ""  # the reader and the version of its metadata mapping, e.g. "geotiff/2"

    def raster(self, key: str) -> Raster:
        """The raster with asset key ``key``."""
        return next(r for r in self.rasters if r.key == key)
