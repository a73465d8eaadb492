"""What a deposit does with a file's bytes: safe names, formats, checksums, and the previews
(a CSV's first rows with typed columns; a GeoTIFF as a COG the maps layer tiles).

Functions of paths and strings, no database: :mod:`terrapole.fair.deposits` calls them.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import rasterio
from rasterio.errors import RasterioError
from rio_cogeo.cogeo import cog_translate, cog_validate
from rio_cogeo.profiles import cog_profiles

from terrapole.errors import InvalidInput

MAX_NAME = 200
GEOTIFF = "image/tiff; application=geotiff"
CSV = "text/csv"
TABLE_ROWS = 200
"""How many rows the table preview of a CSV shows."""

_UNSAFE = re.compile(r"[^\w.\- ()+,=@]+")
_FORMATS = {
    ".tif": GEOTIFF, ".tiff": GEOTIFF, ".csv": CSV, ".tsv": "text/tab-separated-values",
    ".txt": "text/plain", ".json": "application/json", ".geojson": "application/geo+json",
    ".nc": "application/x-netcdf", ".zip": "application/zip", ".pdf": "application/pdf",
    ".gpkg": "application/geopackage+sqlite3", ".parquet": "application/vnd.apache.parquet",
}  # fmt: skip


def safe_name(name: str) -> str:
    """A file name that is safe as one storage key part and in a URL path.

    The last part of a path is kept (``../../etc/passwd`` → ``passwd``), Unicode is NFC, runs
    of other characters than letters, digits and ``.-_ ()+,=@`` become ``_``, leading dots
    and spaces go (no hidden files). An empty result is refused.

    >>> safe_name("../My data/été 2023?.csv")
    'été 2023_.csv'
    """
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip().lstrip(". ").strip()
    if len(cleaned) > MAX_NAME:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) < 10 else (
            cleaned[:MAX_NAME]
        )  # fmt: skip
    if not cleaned or cleaned.strip("_") == "":
        raise InvalidInput("name", f"{name!r} leaves no usable file name")
    return cleaned


def format_of(name: str, path: Path | None = None) -> str:
    """The media type of a deposited file: a TIFF that rasterio opens with a CRS is GeoTIFF."""
    suffix = Path(name).suffix.lower()
    kind = _FORMATS.get(suffix, "application/octet-stream")
    if kind == GEOTIFF and path is not None:
        try:
            with rasterio.open(path) as src:
                if src.crs is None:
                    return "image/tiff"
        except RasterioError:
            return "image/tiff"
    return kind


@dataclass(frozen=True)
class Digest:
    """A file's size and checksums."""

    size: int
    sha256: str
    md5: str


def concatenate(parts: Iterable[Path], target: Path) -> Digest:
    """Write ``parts`` one after the other into ``target``, hashing as it goes."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with target.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while block := src.read(1 << 20):
                    sha.update(block)
                    md5.update(block)
                    size += len(block)
                    out.write(block)
    return Digest(size, sha.hexdigest(), md5.hexdigest())


def sha256_of(data: bytes) -> str:
    """The SHA-256 of ``data`` in hex."""
    return hashlib.sha256(data).hexdigest()


# -- previews -----------------------------------------------------------------------------------


def make_cog(path: Path, target: Path) -> bool:
    """Write ``path`` as a COG at ``target`` unless it is one already (then False: map it as
    it is). rio-cogeo writes it, DEFLATE, 512 px blocks, average overviews, as ingest does."""
    valid, _, _ = cog_validate(str(path), quiet=True)
    if valid:
        return False
    profile = cog_profiles.get("deflate")  # type: ignore[no-untyped-call]
    profile.update(blockxsize=512, blockysize=512)
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InvalidInput("file", f"{path.name} has no coordinate reference system")
        cog_translate(str(path), str(target), profile, in_memory=False, quiet=True,
                      overview_resampling="average")  # fmt: skip
    except RasterioError as exc:
        raise InvalidInput("file", f"{path.name} cannot be read as a raster ({exc})") from exc
    return True


@dataclass(frozen=True)
class Column:
    """A column of a table preview and the type its values share (integer, number, date,
    datetime, boolean or string)."""

    name: str
    type: str


@dataclass(frozen=True)
class Table:
    """The first rows of a CSV, typed by column; ``more`` says whether rows were left out."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    delimiter: str
    more: bool


def _kind(value: str) -> str:
    text = value.strip()
    if text.lower() in ("true", "false"):
        return "boolean"
    for kind, parse in (("integer", int), ("number", float)):
        try:
            parse(text)
            return kind
        except ValueError:
            pass
    for kind, parse_date in (("date", date.fromisoformat), ("datetime", datetime.fromisoformat)):
        try:
            parse_date(text)
            return kind
        except ValueError:
            pass
    return "string"


_WIDER = ("integer", "number")


def _column_type(values: Iterable[str]) -> str:
    kinds = {_kind(v) for v in values if v.strip()}
    if not kinds:
        return "string"
    if len(kinds) == 1:
        return kinds.pop()
    if kinds <= set(_WIDER):
        return "number"
    if kinds <= {"date", "datetime"}:
        return "datetime"
    return "string"


def csv_table(path: Path, *, rows: int = TABLE_ROWS) -> Table:
    """The first ``rows`` rows of a CSV (``,``, ``;``, tab or ``|`` separated, sniffed), its
    header as column names, each column typed from the values shown."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as src:
        sample = src.read(64_000)
        src.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
            delimiter = dialect.delimiter
        except csv.Error:
            delimiter = ","
        reader = csv.reader(src, delimiter=delimiter)
        header = next(reader, None)
        if not header:
            raise InvalidInput("file", f"{path.name} is empty: no header row")
        kept: list[tuple[str, ...]] = []
        more = False
        for row in reader:
            if len(kept) == rows:
                more = True
                break
            kept.append(tuple(row[: len(header)]) + ("",) * (len(header) - len(row)))
    columns = tuple(
        Column(name or f"column {i + 1}", _column_type(r[i] for r in kept))
        for i, name in enumerate(header)
    )
    return Table(columns, tuple(kept), delimiter, more)
