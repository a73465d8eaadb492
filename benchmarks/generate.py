"""Deterministic generator of N Sentinel-2-L2A-like STAC items (one collection), as NDJSON.

Items follow the shape of real Planetary Computer sentinel-2-l2a items (see
demo/catalog/sentinel-2-l2a): a ~110 km tile footprint on a fixed grid over Europe, a
revisit every 5 days per tile alternating Sentinel-2A/2B, cloud cover, MGRS-like tile names,
projection/sat/view properties and 14 assets. The same N and seed always give the same bytes.

    python benchmarks/generate.py 100000 /tmp/bench      # -> collection.json, items.ndjson
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

COLLECTION = "sentinel-2-l2a-bench"
BANDS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"]
START = datetime(2017, 1, 1, 10, 30, tzinfo=UTC)
# Tile grid over Europe: 40 x 30 tiles of 1.0 deg x 0.9 deg (about the MGRS tile size).
GRID = [(-10.0 + i * 1.0, 36.0 + j * 0.9) for j in range(30) for i in range(40)]
LAT_BANDS = "CDEFGHJKLMNPQRSTUVWX"


def tile_name(lon: float, lat: float) -> str:
    """An MGRS-like tile id (UTM zone, latitude band, two letters) for the grid cell."""
    zone = int((lon + 180) // 6) + 1
    band = LAT_BANDS[int((lat + 80) // 8)]
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    a = letters[int((lon * 10) % 24)]
    b = letters[int((lat * 10) % 24)]
    return f"{zone:02d}{band}{a}{b}"


def make_item(n: int, rng: random.Random) -> dict[str, object]:
    """The n-th item: tile n % grid, date from the revisit cycle, random cloud/sun values."""
    lon, lat = GRID[n % len(GRID)]
    cycle = n // len(GRID)
    when = START + timedelta(days=5 * cycle, minutes=rng.randint(0, 40), seconds=rng.random())
    platform = "Sentinel-2A" if cycle % 2 == 0 else "Sentinel-2B"
    tile = tile_name(lon, lat)
    stamp = when.strftime("%Y%m%dT%H%M%S")
    orbit = 1 + (n * 7) % 143
    item_id = f"S2{platform[-1]}_MSIL2A_{stamp}_R{orbit:03d}_T{tile}_{n:08d}"
    skew = rng.uniform(-0.02, 0.02)
    ring = [
        [lon + skew, lat],
        [lon + 1.0, lat + skew],
        [lon + 1.0 - skew, lat + 0.9],
        [lon, lat + 0.9 - skew],
        [lon + skew, lat],
    ]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    cloud = round(min(100.0, max(0.0, rng.betavariate(0.6, 1.2) * 100)), 6)
    base = f"https://example.invalid/s2/{tile}/{when:%Y/%m/%d}/{item_id}"
    assets: dict[str, object] = {
        band: {
            "href": f"{base}/{band}.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "title": f"Band {band}",
            "roles": ["data", "reflectance"],
            "gsd": 10 if band in ("B02", "B03", "B04", "B08") else 20,
        }
        for band in BANDS
    }
    assets["SCL"] = {"href": f"{base}/SCL.tif", "type": "image/tiff", "roles": ["data"]}
    assets["thumbnail"] = {
        "href": f"{base}/preview.png",
        "type": "image/png",
        "roles": ["thumbnail"],
    }
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
            "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
            "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
        ],
        "id": item_id,
        "collection": COLLECTION,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": [min(xs), min(ys), max(xs), max(ys)],
        "properties": {
            "datetime": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "platform": platform,
            "constellation": "Sentinel-2",
            "instruments": ["msi"],
            "title": f"Sentinel-2 L2A tile {tile} {when:%Y-%m-%d}",
            "eo:cloud_cover": cloud,
            "s2:mgrs_tile": tile,
            "proj:epsg": 32600 + int((lon + 180) // 6) + 1,
            "sat:relative_orbit": orbit,
            "sat:orbit_state": "descending",
            "view:sun_elevation": round(rng.uniform(15, 65), 4),
            "view:sun_azimuth": round(rng.uniform(140, 170), 4),
            "gsd": 10,
        },
        "assets": assets,
        "links": [],
    }


def items(count: int, seed: int = 42) -> Iterator[dict[str, object]]:
    """Yield ``count`` items; item n depends only on (n, seed)."""
    for n in range(count):
        yield make_item(n, random.Random(seed * 1_000_003 + n))


def collection() -> dict[str, object]:
    """The collection the generated items belong to."""
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": COLLECTION,
        "title": "Sentinel-2 L2A (synthetic benchmark items)",
        "description": "Generated Sentinel-2-like items for terrapole's benchmarks.",
        "license": "CC-BY-4.0",
        "extent": {
            "spatial": {"bbox": [[-10.0, 36.0, 30.0, 63.0]]},
            "temporal": {"interval": [["2017-01-01T00:00:00Z", None]]},
        },
        "links": [],
    }


def write(count: int, out: Path, seed: int = 42) -> Path:
    """Write collection.json and items.ndjson under ``out``; return the items file."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "collection.json").write_text(json.dumps(collection()))
    path = out / "items.ndjson"
    with path.open("w") as handle:
        for item in items(count, seed):
            handle.write(json.dumps(item, separators=(",", ":")))
            handle.write("\n")
    return path


def main() -> None:
    """Command line: COUNT OUT_DIR [--seed S]."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    print(write(args.count, args.out, args.seed))


if __name__ == "__main__":
    main()
