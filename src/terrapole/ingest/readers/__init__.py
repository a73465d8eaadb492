"""Readers, one module per product format; ``read_product`` picks the one that fits."""

from __future__ import annotations

from pathlib import Path

from terrapole.errors import InvalidProduct
from terrapole.ingest.model import Product
from terrapole.ingest.readers import geotiff, muscate, safe
from terrapole.ingest.readers.source import Source

# Order matters: product formats first, the generic raster last.
READERS = (muscate, safe, geotiff)


def read_product(path: Path, collection: str | None = None) -> Product:
    """Read ``path`` with the first reader that recognises it, or say why none does."""
    source = Source(path)
    for reader in READERS:
        if reader.matches(source):
            product: Product = reader.read(source, collection)
            product.reader = f"{reader.FORMAT}/{reader.READER_VERSION}"
            return product
    raise InvalidProduct(
        str(path),
        "unknown format: not a THEIA MUSCATE L2A product (no *_FRE_/*_SRE_B*.tif), not a "
        "Sen2Cor SAFE (no MTD_MSIL2A.xml), not a single GeoTIFF (.tif)",
    )


__all__ = ["READERS", "read_product"]
