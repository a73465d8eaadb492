"""Stereo DSM from a Pléiades or SPOT pair with CNES CARS (the optional ``[dsm]`` extra).

The pair is two catalogued products in sensor geometry: each item has the image (by default the
``PAN`` asset) and its geometric model (``RPC``: a DIMAP RPC file or an OSSIM ``.geom``). An
optional DEM product gives CARS its initial elevation, and an optional zone restricts the DSM.
The job follows DSM-OPT's stages: DOWNLOAD (the files into the job's folder), PREPARATION (the
CARS configuration), then CARS's own steps as :mod:`.cars_run` maps them, and PUBLICATION (the DSM
and its ortho-image as COGs in the user's results).
"""

from __future__ import annotations

import copy
import json
import signal
import subprocess
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import numpy as np
import rasterio
from rasterio.warp import transform_bounds
from shapely.geometry import box, mapping
from typing_extensions import override

from terrapole.catalog.store import ReadStore
from terrapole.cube.zones import ZONES_SCHEMA, zones
from terrapole.errors import InvalidInput, TerrapoleError
from terrapole.jobs.process import JobContext, Layer, Parameter, Process, Result
from terrapole.jobs.services import cars_run
from terrapole.jsontypes import Json
from terrapole.software import software

ITEM = {"type": "string", "minLength": 1}
# measured: the 500 x 500 px Ventoux pair takes 95 CPU·s at full resolution on one core
CPU_S_FIXED = 30.0
CPU_S_PER_MPX = 400.0
MAX_MPX = 400.0
STAGES = ("DOWNLOAD", "PREPARATION", "TIE-POINT", "BUNDLE ADJUSTMENT", "DENSE MATCHING",
          "POST-PROCESSING", "PUBLICATION")  # fmt: skip
# where each stage starts and ends in the job's progress (%)
SPANS = {"DOWNLOAD": (0, 3), "PREPARATION": (3, 8), "TIE-POINT": (8, 30),
         "BUNDLE ADJUSTMENT": (30, 35), "DENSE MATCHING": (35, 85),
         "POST-PROCESSING": (85, 95), "PUBLICATION": (95, 100)}  # fmt: skip


def _shape(item: Json, asset: str) -> tuple[int, int]:
    shape = item["assets"][asset].get("proj:shape") or item["properties"].get("proj:shape")
    if not shape or len(shape) != 2:
        raise InvalidInput("input 'left'", f"{item['id']} gives no proj:shape for {asset!r}: "
                           "its size is needed to price the job")  # fmt: skip
    return int(shape[0]), int(shape[1])


class StereoDsm(Process):
    """A digital surface model from a stereo pair, by CNES CARS."""

    id: ClassVar[str] = "stereo-dsm"
    title: ClassVar[str] = "Stereo DSM (CARS)"
    description: ClassVar[str] = (
        "A digital surface model (heights above the EGM96 geoid) and its ortho-image from a "
        "Pléiades or SPOT stereo pair in sensor geometry, computed by CNES CARS: tie points, "
        "epipolar correction, dense matching, triangulation and rasterisation."
    )
    keywords: ClassVar[tuple[str, ...]] = ("DSM", "stereo", "Pléiades", "SPOT", "CARS", "3D")
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("collection", "Collection of the pair", ITEM),
        Parameter("left", "First image", ITEM, "item id of one image of the pair"),
        Parameter("right", "Second image", ITEM, "item id of the other image"),
        Parameter("zone", "Zone (GeoJSON, WGS84)", ZONES_SCHEMA,
                  "restrict the DSM to this zone (the pair's overlap when empty)",
                  default={}),
        Parameter("resolution", "DSM resolution (m)", {"type": "number", "minimum": 0.1,
                                                        "maximum": 100}, expert=True,
                  default=0.5),
        Parameter("dem", "Initial elevation", {"type": "string"},
                  "'collection/item' of a DEM product to start the matching from",
                  expert=True, default=""),
        Parameter("image_asset", "Image asset", ITEM, expert=True, default="PAN"),
        Parameter("geomodel_asset", "Geometric model asset", ITEM,
                  "an RPC file CARS reads (tested with OSSIM .geom)", expert=True,
                  default="RPC"),
        Parameter("workers", "CARS worker processes", {"type": "integer", "minimum": 1,
                                                        "maximum": 16}, expert=True, default=1),
    )  # fmt: skip
    outputs: ClassVar[dict[str, Json]] = {
        "DSM": {"title": "Surface heights (m, EGM96)", "schema": {"type": "string"}},
        "ORTHO": {"title": "Ortho-image on the DSM grid", "schema": {"type": "string"}},
    }
    stages: ClassVar[tuple[str, ...]] = STAGES

    def __init__(self, command: str) -> None:
        self.command = command

    def _items(self, store: ReadStore, inputs: Json) -> list[Json]:
        items = [store.get_item(inputs["collection"], inputs[k]) for k in ("left", "right")]
        for item in items:
            for key in (inputs["image_asset"], inputs["geomodel_asset"]):
                if key not in item["assets"]:
                    raise InvalidInput("input 'left'" if item is items[0] else "input 'right'",
                                       f"{item['id']} has no {key!r} asset")  # fmt: skip
        return items

    def _dem(self, store: ReadStore, reference: str) -> Json | None:
        if not reference:
            return None
        collection, _, item_id = reference.partition("/")
        if not item_id:
            raise InvalidInput("input 'dem'", "must be 'collection/item'")
        dem = store.get_item(collection, item_id)
        if not dem["assets"]:
            raise InvalidInput("input 'dem'", f"{item_id} has no asset")
        return dem

    @override
    def estimate(self, inputs: Json, store: ReadStore) -> float:
        if inputs["left"] == inputs["right"]:
            raise InvalidInput("input 'right'", "must be another image than 'left'")
        items = self._items(store, inputs)
        self._dem(store, inputs["dem"])
        if inputs["zone"]:
            zones(inputs["zone"], "input 'zone'")
        rows, cols = _shape(items[0], inputs["image_asset"])
        mpx = rows * cols / 1e6
        if mpx > MAX_MPX:
            raise InvalidInput("input 'left'", f"{mpx:,.0f} Mpx; the limit is {MAX_MPX:,.0f} "
                               "Mpx: give a zone or an extract")  # fmt: skip
        return CPU_S_FIXED + CPU_S_PER_MPX * mpx

    @override
    def run(self, context: JobContext, inputs: Json) -> Result:
        context.stage("DOWNLOAD", 0)
        items = self._items(context.store, inputs)
        folder = context.folder
        sensors = []
        for name, item in zip(("left", "right"), items, strict=True):
            local = context.storage.localise(copy.deepcopy(item))
            sensors.append(cars_run.Sensor(
                _local(local["assets"][inputs["image_asset"]]["href"], folder / name, "image"),
                _local(local["assets"][inputs["geomodel_asset"]]["href"], folder / name, "model"),
            ))  # fmt: skip
        dem_path = None
        if dem := self._dem(context.store, inputs["dem"]):
            local_dem = context.storage.localise(copy.deepcopy(dem))
            data = next((a for a in local_dem["assets"].values()
                         if "data" in a.get("roles", ["data"])), None)  # fmt: skip
            if data is None:
                raise InvalidInput("input 'dem'", f"{dem['id']} has no data asset")
            dem_path = _local(data["href"], folder / "dem", "dem")
        context.stage("PREPARATION", SPANS["PREPARATION"][0])
        roi = None
        if inputs["zone"]:
            roi = {"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {}, "geometry": mapping(geometry)}
                for _, geometry, _ in zones(inputs["zone"], "input 'zone'")]}  # fmt: skip
        out = folder / "cars"
        config = cars_run.configuration(sensors[0], sensors[1], out,
                                        resolution=inputs["resolution"], dem=dem_path, roi=roi,
                                        workers=inputs["workers"])  # fmt: skip
        config_path = folder / "cars.json"
        config_path.write_text(json.dumps(config, indent=1))
        version = _version(self.command)
        context.log(f"CARS {version}: {' '.join(str(s.image.name) for s in sensors)}, "
                    f"{inputs['resolution']} m")  # fmt: skip
        follow = _Follow(context)
        finished = cars_run.run(self.command, config_path, follow.line, follow.tick)
        follow.tick(finished.cpu_s)
        if finished.returncode != 0 or not (out / "dsm" / "dsm.tif").is_file():
            raise TerrapoleError(
                f"CARS failed ({_ending(finished.returncode)}): "
                f"{follow.error or follow.last or _tail(folder / 'cars.out')}"
            )
        return self._result(out / "dsm", items, follow.figures, version)

    @staticmethod
    def _result(dsm_folder: Path, items: list[Json], figures: Json, version: str) -> Result:
        dsm_path = dsm_folder / "dsm.tif"
        with rasterio.open(dsm_path) as ds:
            heights = ds.read(1, masked=True)
            west, south, east, north = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
            nodata = ds.nodata
        if heights.count() == 0:
            raise TerrapoleError("CARS made an empty DSM: no part of the pair could be matched")
        valid = float(heights.count()) / heights.size
        moments = [datetime.fromisoformat(i["properties"]["datetime"].replace("Z", "+00:00"))
                   for i in items]  # fmt: skip
        layers = [Layer("DSM", dsm_path, "surface heights (m, EGM96)", nodata=nodata, unit="m")]
        if (dsm_folder / "image.tif").is_file():
            layers.append(Layer("ORTHO", dsm_folder / "image.tif", "ortho-image",
                                roles=("data", "visual")))  # fmt: skip
        return Result(
            geometry=mapping(box(west, south, east, north)), start=min(moments),
            end=max(moments), layers=layers,
            properties={
                "processing:software": {**software(), "cars": version},
                "terrapole:valid_fraction": round(valid, 4),
                "terrapole:height_range_m": [float(np.ma.min(heights)),
                                             float(np.ma.max(heights))],
                **figures,
            },
            derived_from=[(i["collection"], i["id"]) for i in items],
        )  # fmt: skip


class _Follow:
    """Turns CARS's log into the job's stages, progress, log lines and CPU·s."""

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self.stage = "PREPARATION"
        self.progress = float(SPANS[self.stage][0])
        self.figures: Json = {}
        self.error: str | None = None
        self.counted = 0.0
        self.last = ""

    def line(self, line: str) -> None:
        if line.strip():
            self.last = f"last log line: {line.strip()}"
        mark = cars_run.read_line(line)
        if mark is None:
            return
        if mark.stage and STAGES.index(mark.stage) > STAGES.index(self.stage):
            self.stage, self.progress = mark.stage, float(SPANS[mark.stage][0])
            self.context.stage(self.stage, self.progress)
        elif mark.percent is not None:
            start, end = SPANS[self.stage]
            self.progress = max(self.progress, start + (end - start) * mark.percent / 100)
            self.context.stage(self.stage, self.progress)
        if mark.figures:
            self.figures.update(mark.figures)
            self.context.log(", ".join(f"{k.removeprefix('terrapole:')} {v}"
                                       for k, v in mark.figures.items()))  # fmt: skip
        if mark.error:
            self.error = mark.error

    def tick(self, cpu_s: float) -> None:
        """CARS's CPU·s so far: the part not yet counted goes to the job."""
        if cpu_s > self.counted:
            self.context.use_cpu(cpu_s - self.counted)
            self.counted = cpu_s
        self.context.stage(self.stage, self.progress)


def _local(href: str, folder: Path, what: str) -> Path:
    """The job's own name for an input file (a link to the stored file)."""
    source = Path(href)
    if not source.is_file():
        raise InvalidInput("inputs", f"the {what} file {href} cannot be read")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    target.symlink_to(source.resolve())
    return target


def _version(command: str) -> str:
    try:
        done = subprocess.run([command, "--version"], capture_output=True, text=True,
                              timeout=120, check=False)  # fmt: skip
    except OSError as exc:
        raise TerrapoleError(f"CARS cannot be started ({command}): {exc}") from None
    words = (done.stdout or done.stderr).split()
    return words[-1] if words else "unknown"


def _ending(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit status {returncode}"


def _tail(path: Path, lines: int = 5) -> str:
    if not path.is_file():
        return "no output"
    return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
