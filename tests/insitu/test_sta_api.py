"""The SensorThings API at /sta/v1.1 through an unmodified client users have (frost-sta-client)
against a live server: CRUD, navigation, $expand, $filter and dataArray creation, on the real
CAMELS discharge series of gauge 01022500."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import frost_sta_client as fsc
import pytest
import requests
from frost_sta_client.model.ext.data_array_document import DataArrayDocument
from frost_sta_client.model.ext.data_array_value import DataArrayValue
from geojson import Point

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.insitu import Dataset, InsituStore, Producer, Thing

from ..stac_api.live import serve

SERIES = Path(__file__).parents[1] / "data" / "insitu" / "camels_us_01022500"
PASSWORD = "a long enough passphrase 42"
# the unmodified client calls a deprecated furl API
pytestmark = pytest.mark.filterwarnings("ignore:furl.pathstr is deprecated:DeprecationWarning")


def camels() -> list[tuple[str, float]]:
    """(ISO day, discharge ft³/s) of gauge 01022500 from the real CAMELS file."""
    rows = []
    for line in (SERIES / "01022500_streamflow_qc.txt").read_text().splitlines():
        _, year, month, day, q, _flag = line.split()
        rows.append((f"{year}-{month}-{day}T00:00:00Z", float(q)))
    return rows


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("sta")))
    services = app.state.services
    producer = services.accounts.create_verified(
        "obs@ozcar.fr", PASSWORD, "Observatory", roles=frozenset({"producer"})
    )
    reader = services.accounts.create_verified("reader@lab.fr", PASSWORD, "Reader")
    tokens = {
        "producer": services.accounts.create_token(producer.id, "sta")[1],
        "reader": services.accounts.create_token(reader.id, "sta")[1],
    }
    with serve(app) as url:
        yield {"url": f"{url}/sta/v1.1", "tokens": tokens, "services": services}


def client(server: dict[str, Any], who: str = "producer") -> fsc.SensorThingsService:
    service = fsc.SensorThingsService(server["url"])
    service.auth_handler = None
    session_headers = {"Authorization": f"Bearer {server['tokens'][who]}"}
    original = service.execute

    def execute(method: str, url: Any, **kwargs: Any) -> Any:
        kwargs["headers"] = {**(kwargs.get("headers") or {}), **session_headers}
        return original(method, url, **kwargs)

    service.execute = execute  # type: ignore[method-assign]
    return service


def _station(service: fsc.SensorThingsService) -> tuple[Any, Any]:
    """The gauge as a Thing with its Location and discharge Datastream, by deep insert."""
    location = fsc.Location(
        name="Narraguagus River at Cherryfield, Maine", description="USGS 01022500",
        encoding_type="application/geo+json", location=Point((-67.93524, 44.60797)),
    )  # fmt: skip
    sensor = fsc.Sensor(
        name="USGS stream gauge",
        description="stage-discharge",
        encoding_type="application/pdf",
        metadata="https://waterdata.usgs.gov",
    )
    prop = fsc.ObservedProperty(
        name="discharge",
        description="river discharge",
        definition="http://vocabs.example/discharge",
    )
    datastream = fsc.Datastream(
        name="Q 01022500", description="daily discharge",
        observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
        unit_of_measurement=fsc.UnitOfMeasurement(name="cubic foot per second", symbol="ft3/s",
                                                  definition="http://qudt.org/vocab/unit/FT3-PER-SEC"),
        sensor=sensor, observed_property=prop,
    )  # fmt: skip
    thing = fsc.Thing(name="01022500", description="CAMELS gauge",
                      properties={"network": "CAMELS"}, locations=[location],
                      datastreams=[datastream])  # fmt: skip
    service.create(thing)
    stored = service.things().find(thing.id)
    streams = stored.get_datastreams().query().list()
    return stored, streams.entities[0]


def test_deep_insert_navigation_and_expand(server: dict[str, Any]) -> None:
    service = client(server)
    thing, datastream = _station(service)
    assert thing.name == "01022500" and thing.properties == {"network": "CAMELS"}
    locations = thing.get_locations().query().list().entities
    assert [loc.name for loc in locations] == ["Narraguagus River at Cherryfield, Maine"]
    assert datastream.unit_of_measurement.symbol == "ft3/s"
    expanded = service.things().query().filter(f"id eq {thing.id}").expand(
        "Datastreams($expand=ObservedProperty,Sensor),Locations"
    ).list().entities[0]  # fmt: skip
    assert expanded.datastreams.entities[0].observed_property.name == "discharge"
    assert expanded.locations.entities[0].location["coordinates"] == [-67.93524, 44.60797]
    # the navigation paths, and properties with $value, straight over HTTP
    base = server["url"]
    up = requests.get(f"{base}/Datastreams({datastream.id})/Thing", timeout=10).json()
    assert up["@iot.id"] == thing.id and "Datastreams@iot.navigationLink" in up
    name = requests.get(f"{base}/Things({thing.id})/name/$value", timeout=10)
    assert name.text == "01022500"
    refs = requests.get(f"{base}/Things({thing.id})/Datastreams/$ref", timeout=10).json()
    assert refs["value"] == [{"@iot.selfLink": f"{base}/Datastreams({datastream.id})"}]


def test_data_array_creation_filter_and_paging_on_the_real_series(server: dict[str, Any]) -> None:
    service = client(server)
    thing, datastream = _station(service)
    series = camels()[:400]
    value = DataArrayValue()
    value.datastream = datastream
    value.components = {DataArrayValue.Property.PHENOMENON_TIME, DataArrayValue.Property.RESULT}
    for when, q in series:
        value.add_observation(
            fsc.Observation(phenomenon_time=when, result=q, datastream=datastream)
        )
    document = DataArrayDocument()
    document.add_data_array_value(value)
    created = service.observations().create(document)
    assert len(created) == 400 and all(o.self_link != "error" for o in created)
    # the Thing's Location became the default FeatureOfInterest
    first = requests.get(f"{created[0].self_link}/FeatureOfInterest", timeout=10).json()
    assert first["feature"]["coordinates"] == [-67.93524, 44.60797]
    observations = datastream.get_observations()
    high = observations.query().filter("result gt 1000 and year(phenomenonTime) eq 2000").list()
    expected = [q for when, q in series if q > 1000 and when.startswith("2000")]
    assert sorted(o.result for o in high.entities) == sorted(expected) and expected
    path = (
        "Datastream/ObservedProperty/name eq 'discharge' and phenomenonTime ge 2000-03-01T00:00:00Z"
    )
    base = server["url"]
    page = requests.get(
        f"{base}/Datastreams({datastream.id})/Observations",
        params={"$filter": path + " and phenomenonTime lt 2000-04-01T00:00:00Z", "$top": "10",
                "$count": "true", "$orderby": "phenomenonTime"}, timeout=10,
    ).json()  # fmt: skip
    assert page["@iot.count"] == 31 and len(page["value"]) == 10
    # a two-hop path picks this station's rows only (other tests add stations alike)
    mine = requests.get(
        f"{base}/Observations",
        params={"$filter": f"Datastream/Thing/id eq {thing.id}", "$count": "true", "$top": "1"},
        timeout=10,
    ).json()
    assert mine["@iot.count"] == 400
    assert page["value"][0]["phenomenonTime"] == "2000-03-01T00:00:00Z"
    following = requests.get(page["@iot.nextLink"], timeout=10).json()
    assert following["value"][0]["phenomenonTime"] == "2000-03-11T00:00:00Z"
    array = requests.get(
        f"{base}/Datastreams({datastream.id})/Observations",
        params={"$resultFormat": "dataArray", "$select": "phenomenonTime,result", "$top": "3",
                "$orderby": "phenomenonTime"}, timeout=10,
    ).json()  # fmt: skip
    assert array["value"][0]["components"] == ["phenomenonTime", "result"]
    assert array["value"][0]["dataArray"] == [[t, q] for t, q in series[:3]]


def test_update_and_delete_cascade(server: dict[str, Any]) -> None:
    service = client(server)
    thing, datastream = _station(service)
    thing.description = "renamed gauge"
    service.update(thing)
    assert service.things().find(thing.id).description == "renamed gauge"
    observation = fsc.Observation(phenomenon_time="2001-01-01T00:00:00Z", result=12.5,
                                  datastream=datastream)  # fmt: skip
    service.create(observation)
    assert service.observations().find(observation.id).result == 12.5
    service.delete(thing)
    base = server["url"]
    for gone in (f"Things({thing.id})", f"Datastreams({datastream.id})",
                 f"Observations({observation.id})"):  # fmt: skip
        assert requests.get(f"{base}/{gone}", timeout=10).status_code == 404


def test_writes_need_the_producer_role(server: dict[str, Any]) -> None:
    base = server["url"]
    body = {"name": "x", "description": "y"}
    assert requests.post(f"{base}/Things", json=body, timeout=10).status_code == 401
    reader = {"Authorization": f"Bearer {server['tokens']['reader']}"}
    assert requests.post(f"{base}/Things", json=body, headers=reader, timeout=10).status_code == 403


def test_a_restricted_dataset_answers_like_an_unknown_id(server: dict[str, Any]) -> None:
    services = server["services"]
    store = InsituStore(services.access.engine)
    producer = store.create_producer(Producer("CATC", "Critical zone"))
    dataset = store.create_dataset(Dataset(producer.id or 0, "closed"))
    thing = store.create_thing(Thing("secret", dataset_id=dataset.id))
    services.access.restrict(dataset.access_key, groups=["nobody"])
    base = server["url"]
    unknown = requests.get(f"{base}/Things(999999)", timeout=10)
    hidden = requests.get(f"{base}/Things({thing.id})", timeout=10)
    assert hidden.status_code == unknown.status_code == 404
    listed = requests.get(f"{base}/Things", params={"$filter": "name eq 'secret'"}, timeout=10)
    assert listed.json()["value"] == []


def test_bad_queries_are_400_naming_the_problem(server: dict[str, Any]) -> None:
    base = server["url"]
    for params, word in (
        ({"$top": "100000"}, "maximum"),
        ({"$filter": "name eq 'x"}, "position"),
        ({"$filter": "matchesPattern(name, 'x')"}, "not implemented"),
        (
            {
                "$expand": "Datastreams($expand=Thing($expand=Datastreams($expand=Thing($expand=Locations))))"
            },
            "deeper",
        ),
    ):
        answer = requests.get(f"{base}/Things", params=params, timeout=10)
        assert answer.status_code == 400 and word in answer.text, (params, answer.text)


def test_root_lists_entity_sets_and_conformance(server: dict[str, Any]) -> None:
    root = requests.get(server["url"], timeout=10).json()
    assert {v["name"] for v in root["value"]} >= {"Things", "Observations", "FeaturesOfInterest"}
    assert any("create-update-delete" in c for c in root["serverSettings"]["conformance"])
    assert datetime.now(UTC).year > 2000
