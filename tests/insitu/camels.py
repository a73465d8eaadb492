"""Real CAMELS US series loaded into an in-situ store, as an importer would, for the station
and portal tests: two gauges in two datasets of one producer; gauge 01022500 carries its
discharge (ft³/s) and its basin's Daymet precipitation (mm/d)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from terrapole.insitu import (
    Dataset,
    Datastream,
    InsituStore,
    Location,
    ObservedProperty,
    Producer,
    Sensor,
    Thing,
    Unit,
)

DATA = Path(__file__).parents[1] / "data" / "insitu"
# Theia/OZCAR variable categories, as real producer pivot documents give them (see
# demo/insitu/THEIA_CATEGORIES.md): discharge and rain
HYDROLOGY = "https://w3id.org/ozcar-theia/hydrologicalMeasurements"
METEOROLOGY = "https://w3id.org/ozcar-theia/liquidPrecipitation"


def discharge(gauge: str) -> list[tuple[datetime, float, None, str]]:
    """(day, discharge ft³/s, no result time, flag) of a CAMELS gauge's USGS file."""
    rows = []
    path = DATA / f"camels_us_{gauge}" / f"{gauge}_streamflow_qc.txt"
    for line in path.read_text().splitlines():
        _, year, month, day, q, flag = line.split()
        rows.append((datetime(int(year), int(month), int(day), tzinfo=UTC), float(q), None, flag))
    return rows


def precipitation(gauge: str) -> list[tuple[datetime, float]]:
    """(day, precipitation mm/d) of a CAMELS basin's Daymet forcing file."""
    path = DATA / f"camels_us_forcing_{gauge}" / f"{gauge}_lump_cida_forcing_leap.txt"
    rows = []
    for line in path.read_text().splitlines()[4:]:
        year, month, day, _, _, prcp, *_ = line.split()
        rows.append((datetime(int(year), int(month), int(day), tzinfo=UTC), float(prcp)))
    return rows


@dataclass(frozen=True)
class Camels:
    """Ids of what :func:`load` stored."""

    producer: int
    maine: int  # dataset of gauge 01022500
    pennsylvania: int  # dataset of gauge 01547700
    narraguagus: int  # Thing 01022500
    marsh_creek: int  # Thing 01547700
    discharge_me: int  # Datastream
    rain_me: int  # Datastream
    discharge_pa: int  # Datastream
    discharge_property: int
    rain_property: int


def _gauge(store: InsituStore, dataset: int, ident: str, name: str, lon: float, lat: float) -> int:
    thing = store.create_thing(
        Thing(name, dataset_id=dataset, identifier=ident,
              description=f"USGS stream gauge {ident} (CAMELS US)")
    )  # fmt: skip
    assert thing.id is not None
    store.create_location(
        Location(f"gauge {ident}", {"type": "Point", "coordinates": [lon, lat]}),
        thing_ids=[thing.id],
    )
    return thing.id


def load(store: InsituStore) -> Camels:
    """Store the producer, datasets, gauges, datastreams and every observation."""
    producer = store.create_producer(
        Producer("CAMELS", "CAMELS US", "Catchment attributes and meteorology for large-sample "
                 "studies (NCAR/UCAR)", properties={"url": "https://ral.ucar.edu/solutions/products/camels"})
    )  # fmt: skip
    assert producer.id is not None
    maine = store.create_dataset(
        Dataset(producer.id, "Narraguagus River streamflow and forcing", identifier="camels-me",
                description="USGS daily discharge and Daymet basin forcing, 2000-2003.",
                licence="US public domain (USGS); CAMELS: cite Newman et al. 2015",
                doi="10.5065/D6MW2F4D", keywords=("discharge", "precipitation"))
    )  # fmt: skip
    penn = store.create_dataset(
        Dataset(producer.id, "Marsh Creek streamflow", identifier="camels-pa",
                description="USGS daily discharge, 2000-2002.", licence="US public domain")
    )  # fmt: skip
    assert maine.id is not None and penn.id is not None
    me = _gauge(store, maine.id, "01022500", "Narraguagus River at Cherryfield, ME",
                -67.93524, 44.60797)  # fmt: skip
    pa = _gauge(store, penn.id, "01547700", "Marsh Creek at Blanchard, PA", -77.60583, 41.05951)
    gauge = store.create_sensor(Sensor("USGS stream gauge"))
    daymet = store.create_sensor(Sensor("Daymet gridded forcing"))
    q = store.create_observed_property(
        ObservedProperty("Discharge", "http://vocabulary.odm2.org/variablename/discharge",
                         properties={"theiaCategories": [HYDROLOGY]})
    )  # fmt: skip
    rain = store.create_observed_property(
        ObservedProperty("Precipitation", "http://vocabulary.odm2.org/variablename/precipitation",
                         properties={"theiaCategories": [METEOROLOGY]})
    )  # fmt: skip
    assert gauge.id and daymet.id and q.id and rain.id

    def stream(thing: int, name: str, sensor: int, prop: int, unit: Unit) -> int:
        made = store.create_datastream(Datastream(name, thing, sensor, prop, unit))
        assert made.id is not None
        return made.id

    cfs = Unit("cubic foot per second", "ft³/s")
    q_me = stream(me, "Discharge 01022500", gauge.id, q.id, cfs)
    rain_me = stream(me, "Precipitation, basin 01022500", daymet.id, rain.id,
                     Unit("millimetre per day", "mm/d"))  # fmt: skip
    q_pa = stream(pa, "Discharge 01547700", gauge.id, q.id, cfs)
    store.add_observations(q_me, discharge("01022500"))
    store.add_observations(rain_me, precipitation("01022500"))
    store.add_observations(q_pa, discharge("01547700"))
    return Camels(
        producer=producer.id, maine=maine.id, pennsylvania=penn.id, narraguagus=me,
        marsh_creek=pa, discharge_me=q_me, rain_me=rain_me, discharge_pa=q_pa,
        discharge_property=q.id, rain_property=rain.id,
    )  # fmt: skip
