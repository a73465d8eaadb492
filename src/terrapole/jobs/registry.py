"""The services terrapole offers, by id."""

from __future__ import annotations

from terrapole.jobs.process import Process
from terrapole.jobs.services.deformation import GroundDeformation
from terrapole.jobs.services.gnss_plot import GnssPlot
from terrapole.jobs.services.openeo_graph import ProcessGraph
from terrapole.jobs.services.vegetation import VegetationIndicators
from terrapole.jobs.services.zonal import ZonalStatistics


def default_processes() -> dict[str, Process]:
    """Every built-in service, by process id."""
    processes: list[Process] = [
        ZonalStatistics(),
        VegetationIndicators(),
        GroundDeformation(),
        GnssPlot(),
        ProcessGraph(),
    ]
    return {p.id: p for p in processes}
