"""The services terrapole offers, by id."""

from __future__ import annotations

from terrapole.jobs.process import Process
from terrapole.jobs.services.cars_run import find_command
from terrapole.jobs.services.deformation import GroundDeformation
from terrapole.jobs.services.gnss_plot import GnssPlot
from terrapole.jobs.services.openeo_graph import ProcessGraph
from terrapole.jobs.services.point_series import PointSeries
from terrapole.jobs.services.stereo_dsm import StereoDsm
from terrapole.jobs.services.vegetation import VegetationIndicators
from terrapole.jobs.services.zonal import ZonalStatistics


def default_processes(cars_command: str | None = None) -> dict[str, Process]:
    """Every built-in service, by process id; the stereo DSM only where CARS is installed (the
    ``[dsm]`` extra, or ``cars_command``)."""
    processes: list[Process] = [
        ZonalStatistics(),
        VegetationIndicators(),
        GroundDeformation(),
        GnssPlot(),
        ProcessGraph(),
        PointSeries(),
    ]
    if command := find_command(cars_command):
        processes.append(StereoDsm(command))
    return {p.id: p for p in processes}
