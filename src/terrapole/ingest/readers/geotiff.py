"""Generic GeoTIFF / COG rasters (DEMs, land-cover maps, any single- or multi-band raster).

The collection comes from the user. The item id is the file stem, its datetime the TIFF's
``TIFFTAG_DATETIME`` when present, otherwise a period (``start_datetime``/``end_datetime``,
datetime its start): the file's own ``start_datetime``/``end_datetime`` metadata tags, or the
documented period of a recognised product (Copernicus DEM, SRTM, BD Forêt; ``periods.py``);
otherwise the file's modification time (stated in ``Product.missing``).
Each band becomes its own COG asset (``band1``, ``band2``…; a single-band file gives ``data``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import RasterioIOError

from terrapole.errors import InvalidProduct
from terrapole.ingest.footprint import reduced_shape
from terrapole.ingest.model import Product, Raster
from terrapole.ingest.readers.periods import known_period, tagged_period
from terrapole.ingest.readers.source import Source
from terrapole.jsontypes import utc_iso

FORMAT = "geotiff"
# The version of this reader's metadata mapping: raise it when the item it describes changes,
# so that products ingested before are published again (2: DEMs dated from their metadata,
# not from the file time).
READER_VERSION = 2
SUFFIXES = (".tif", ".tiff", ".gtiff")


def matches(source: Source) -> bool:
    """A single .tif file (not part of a recognised product)."""
    return source.path.is_file() and source.path.suffix.lower() in SUFFIXES


def _palette_classes(ds: Any) -> tuple[dict[str, Any], ...]:
    """Classes of a paletted (land-cover style) raster: the values present, with their colours."""
    if ds.colorinterp[0] != ColorInterp.palette:
        return ()
    palette = ds.colormap(1)
    rows, cols = reduced_shape(ds.width, ds.height)
    values = np.unique(ds.read(1, out_shape=(rows, cols), resampling=Resampling.nearest))
    return tuple(
        {
            "value": int(v),
            "description": f"class {int(v)}",
            "color_hint": "{:02X}{:02X}{:02X}".format(*palette.get(int(v), (0, 0, 0))[:3]),
        }
        for v in values
        if ds.nodata is None or v != ds.nodata
    )


def _dating(
    source: Source, tags: dict[str, str], properties: dict[str, Any]
) -> tuple[datetime, list[str]]:
    """The raster's datetime, first found: TIFFTAG_DATETIME, the file's start/end_datetime
    tags, the documented period of a recognised product, else the file's time (said missing).
    A period also sets ``start_datetime``/``end_datetime`` in ``properties``."""
    stamp = tags.get("TIFFTAG_DATETIME")
    try:
        return datetime.strptime(stamp or "", "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC), []
    except ValueError:
        pass
    try:
        period = tagged_period(tags) or known_period(source.path.stem, tags)
    except ValueError as exc:
        raise InvalidProduct(str(source.path), str(exc)) from exc
    if period is None:
        when = datetime.fromtimestamp(source.path.stat().st_mtime, tz=UTC).replace(microsecond=0)
        return when, ["acquisition time (no TIFFTAG_DATETIME): file time used"]
    properties["start_datetime"] = utc_iso(period.start, timespec="seconds")
    properties["end_datetime"] = utc_iso(period.end, timespec="seconds")
    properties["terrapole:period_source"] = period.source
    return period.start, []


def read(source: Source, collection: str | None = None) -> Product:
    """Describe the raster; refuse one without a CRS or a collection."""
    where = str(source.path)
    if collection is None:
        raise InvalidProduct(where, "a generic GeoTIFF needs a collection (--collection NAME)")
    source.check_not_lfs_pointer(source.names[0])
    try:
        with rasterio.open(source.gdal_path(source.names[0])) as ds:
            if ds.crs is None:
                raise InvalidProduct(where, "has no coordinate reference system")
            count, nodata, tags = ds.count, ds.nodata, ds.tags()
            descriptions, units = ds.descriptions, ds.units
            scales, offsets = ds.scales, ds.offsets
            classes = _palette_classes(ds) if count == 1 else ()
    except RasterioIOError as exc:
        raise InvalidProduct(where, f"not a readable GeoTIFF ({exc})") from exc
    properties: dict[str, Any] = {"title": source.path.stem.replace("_", " ")}
    when, missing = _dating(source, tags, properties)
    rasters = [
        Raster(
            key="data" if count == 1 else f"band{i}",
            path=f"{source.gdal_path(source.names[0])}",
            title=descriptions[i - 1] or (source.path.stem if count == 1 else f"band {i}"),
            roles=("data", "classification") if classes else ("data",),
            classes=classes,
            nodata=nodata,
            scale=scales[i - 1] if scales[i - 1] is not None else 1.0,
            offset=offsets[i - 1] if offsets[i - 1] is not None else 0.0,
            unit=units[i - 1] or None,
            index=i,
        )
        for i in range(1, count + 1)
    ]
    return Product(
        source=source.path,
        format=FORMAT,
        id=source.path.stem,
        collection=collection,
        datetime=when,
        rasters=rasters,
        valid_from=rasters[0].key,
        missing=missing,
        properties=properties,
    )
