"""CARS's configuration and the reading of its log, without running it."""

from __future__ import annotations

from pathlib import Path

from terrapole.jobs.services import cars_run
from terrapole.jobs.services.cars_run import Mark, Sensor, read_line

# lines as CARS 1.3 writes them in <out>/logs/<date>_default.log
LOG = """\
2026-11-25 21:06:08,619 :: INFO :: Check configuration...
2026-11-25 21:06:16,213 :: INFO :: Started task tie_points in pipeline Tie Points, total: 11
2026-11-25 21:06:29,923 :: INFO :: Data list to process: 50% complete (6/11 tiles) [run 1/1]
2026-11-25 21:06:42,485 :: DEBUG :: Number of matches kept for epipolar error correction: 1694 matches
2026-11-25 21:06:42,513 :: DEBUG :: Epipolar error after correction: mean = 0.000 pix., standard deviation = 0.484 pix., max = 4.659 pix.
2026-11-25 21:06:43,914 :: INFO :: Started task generate_disparity_grids in pipeline surface_modeling_res1, total: 2
2026-11-25 21:06:48,050 :: INFO :: Started task disparity_to_depth_maps in pipeline surface_modeling_res1, total: 1
2026-11-25 21:06:49,476 :: INFO :: Started task rasterize_point_cloud in pipeline surface_modeling_res1, total: 4
2026-11-25 21:07:47,065 :: INFO :: Data list to process: [ MonoBand Filling ] ...
2026-11-25 21:07:54,766 :: INFO :: Starting formatting pipeline
2026-11-25 21:05:21,779 :: ERROR :: CARS terminated with following error: The DSM generated at resolution 4 is empty
"""


def test_log_lines_become_stages_progress_and_figures() -> None:
    marks = [read_line(line) for line in LOG.splitlines()]
    assert marks == [
        None,
        Mark(stage="TIE-POINT"),
        Mark(percent=50.0),
        Mark(figures={"terrapole:tie_points": 1694}),
        Mark(figures={"terrapole:epipolar_error_std_px": 0.484}),
        Mark(stage="BUNDLE ADJUSTMENT"),
        Mark(stage="DENSE MATCHING"),
        Mark(stage="DENSE MATCHING"),
        Mark(stage="POST-PROCESSING"),
        Mark(stage="POST-PROCESSING"),
        Mark(error="The DSM generated at resolution 4 is empty"),
    ]


def test_the_configuration_runs_one_full_resolution_pass(tmp_path: Path) -> None:
    left = Sensor(tmp_path / "l.tif", tmp_path / "l.geom")
    right = Sensor(tmp_path / "r.tif", tmp_path / "r.geom")
    roi = {"type": "FeatureCollection", "features": []}
    config = cars_run.configuration(left, right, tmp_path / "out", resolution=1.0,
                                    dem=tmp_path / "dem.tif", roi=roi, workers=1)  # fmt: skip
    assert config["pipeline"] == ["surface_modeling", "tie_points", "formatting"]
    assert config["input"]["sensors"]["right"] == {
        "image": str(tmp_path / "r.tif"),
        "geomodel": {"path": str(tmp_path / "r.geom")},
    }
    assert config["input"]["pairing"] == [["left", "right"]]
    assert config["input"]["initial_elevation"] == str(tmp_path / "dem.tif")
    assert config["input"]["roi"] is roi
    assert config["orchestrator"] == {"mode": "sequential"}
    assert config["output"] == {"directory": str(tmp_path / "out"), "resolution": 1.0}
    several = cars_run.configuration(left, right, tmp_path, resolution=0.5, workers=3)
    assert several["orchestrator"] == {"mode": "multiprocessing", "nb_workers": 3}
    assert "initial_elevation" not in several["input"] and "roi" not in several["input"]


def test_a_missing_command_is_not_found(tmp_path: Path) -> None:
    assert cars_run.find_command(str(tmp_path / "no-cars")) is None


def test_cars_runs_without_the_workers_malloc_tuning() -> None:
    worker = {"PATH": "/bin", "OMP_NUM_THREADS": "1", "MALLOC_MMAP_THRESHOLD_": "67108864",
              "MALLOC_TRIM_THRESHOLD_": "65536"}  # fmt: skip
    assert cars_run.environment(worker) == {"PATH": "/bin", "OMP_NUM_THREADS": "1"}
