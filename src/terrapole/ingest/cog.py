"""Per-band Cloud-Optimised GeoTIFFs with rio-cogeo, validated, with size and checksum."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import rasterio
from rasterio.errors import RasterioError
from rasterio.vrt import WarpedVRT
from rio_cogeo.cogeo import cog_translate, cog_validate
from rio_cogeo.profiles import cog_profiles

from terrapole.errors import InvalidProduct
from terrapole.ingest.model import Raster

COG_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"


@dataclass(frozen=True)
class WrittenFile:
    """A file written (or linked) into the staging folder, ready to become an asset."""

    name: str
    size: int
    checksum: str  # multihash: 0x12 (sha2-256), 0x20 (32 bytes), digest — in hex


def multihash_sha256(path: Path) -> str:
    """The file's SHA-256 as a hex multihash, the form ``file:checksum`` expects."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "1220" + digest.hexdigest()


def describe(path: Path) -> WrittenFile:
    """Size and checksum of a staged file."""
    return WrittenFile(path.name, path.stat().st_size, multihash_sha256(path))


def is_categorical(raster: Raster) -> bool:
    """Masks and classifications: overviews must pick values, never average them."""
    return raster.band is None and raster.roles[-1] != "data"


def link_cog(raster: Raster, dst: Path) -> WrittenFile | None:
    """Register an existing single-band COG where it is (a symlink), or None if it is not one.

    For archives of COGs already on the server's disks: nothing is copied; the asset's
    checksum is that of the file as it is now (re-ingest after the file changes).
    """
    if raster.path.startswith("/vsi") or raster.index != 1:
        return None
    with rasterio.open(raster.path) as src:
        if src.count != 1 or (raster.nodata is not None and src.nodata != raster.nodata):
            return None
    valid, _, _ = cog_validate(raster.path, quiet=True)
    if not valid:
        return None
    dst.symlink_to(Path(raster.path).resolve())
    return describe(dst)


def write_cog(raster: Raster, dst: Path) -> WrittenFile:
    """Write one band of ``raster`` as a DEFLATE-compressed, tiled COG with overviews."""
    profile = cog_profiles.get("deflate")  # type: ignore[no-untyped-call]
    profile.update(blockxsize=512, blockysize=512)
    try:
        with rasterio.open(raster.path) as src:
            if raster.index > src.count:
                raise InvalidProduct(raster.path, f"has no band {raster.index}")
            if src.crs is None:
                raise InvalidProduct(raster.path, "has no coordinate reference system")
            profile["predictor"] = 3 if src.dtypes[0].startswith("float") else 2
            if is_categorical(raster):
                profile.pop("predictor")
            # JPEG 2000 files (Sentinel-2 SAFE) report a GCP CRS without GCPs, which rio-cogeo
            # takes for GCP georeferencing; an identity WarpedVRT hides it, pixels unchanged.
            gcp_only_crs = bool(src.gcps[1]) and not src.gcps[0]
            source = WarpedVRT(src) if gcp_only_crs else src
            cog_translate(
                source,
                str(dst),
                profile,
                indexes=[raster.index],
                nodata=raster.nodata,
                overview_resampling="nearest" if is_categorical(raster) else "average",
                in_memory=False,
                quiet=True,
            )
    except RasterioError as exc:
        raise InvalidProduct(raster.path, f"cannot be read as a raster ({exc})") from exc
    valid, errors, _ = cog_validate(str(dst), quiet=True)
    if not valid:
        raise InvalidProduct(raster.path, f"COG written is not valid: {'; '.join(errors)}")
    return describe(dst)
