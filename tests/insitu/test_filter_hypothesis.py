"""Hypothesis on the SensorThings $filter: random and hostile strings (quotes, semicolons,
SQL injections, unicode, deep parentheses) answer 200 or 4xx, never 5xx, and the tables are
intact afterwards (every value reaches SQL as a bound parameter)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.insitu import Datastream, InsituStore, ObservedProperty, Sensor, Thing, Unit

from .test_store import camels

ATOMS = [
    "name", "description", "result", "phenomenonTime", "resultTime", "id", "properties/code",
    "Datastream/ObservedProperty/name", "Datastream/Thing/name", "unitOfMeasurement/symbol",
    "'x'", "''''", "'; DROP TABLE tp_sta_observations; --'", "1", "-2.5", "1e308", "null",
    "true", "2000-01-01T00:00:00Z", "geography'POINT(1 2)'", "'é漢字🙂'", "99999999999999999999999",
]  # fmt: skip
OPERATORS = [" eq ", " ne ", " gt ", " le ", " and ", " or ", " add ", " div ", " mod ", " in "]
FUNCTIONS = [
    "substringof", "startswith", "endswith", "length", "tolower", "concat", "indexof",
    "substring", "year", "hour", "date", "time", "round", "floor", "ceiling", "now",
    "st_within", "geo.distance", "geo.intersects", "st_relate", "matchesPattern", "unknown",
]  # fmt: skip


def expressions() -> st.SearchStrategy[str]:
    atom = st.sampled_from(ATOMS)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(OPERATORS), inner).map("".join),
            st.tuples(st.sampled_from(FUNCTIONS), st.lists(inner, max_size=3)).map(
                lambda f: f"{f[0]}({', '.join(f[1])})"
            ),
            inner.map(lambda e: f"not ({e})"),
            inner.map(lambda e: f"({e})"),
        )

    structured = st.recursive(atom, extend, max_leaves=12)
    return st.one_of(structured, st.text(max_size=80), st.sampled_from(HOSTILE))


HOSTILE = [
    "name eq 'a' or 1 eq 1; DROP TABLE tp_sta_things",
    "name eq '' OR ''='",
    "name eq 'x'); DELETE FROM tp_sta_observations; --",
    "(" * 300 + "name eq 'x'" + ")" * 300,
    "not " * 200 + "true",
    "name eq '\x00'",
    "substringof('%', name) and startswith(name, '_')",
    "result eq 1 div 0 and result mod 0 eq 1",
]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Any]]:
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("fuzz")))
    store = InsituStore(app.state.services.access.engine)
    thing = store.create_thing(Thing("01022500", properties={"code": "01022500"}))
    sensor = store.create_sensor(Sensor("gauge"))
    prop = store.create_observed_property(ObservedProperty("discharge", "http://x/q"))
    ds = store.create_datastream(
        Datastream("Q", thing.id or 0, sensor.id or 0, prop.id or 0, Unit("cfs", "ft3/s"))
    )
    store.add_observations(ds.id or 0, camels()[:200])
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, store.engine


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=expressions(), entity_set=st.sampled_from(["Things", "Observations", "Locations"]))
def test_any_filter_is_answered_200_or_4xx(
    api: tuple[TestClient, Any], text: str, entity_set: str
) -> None:
    client, _ = api
    answer = client.get(f"/sta/v1.1/{entity_set}", params={"$filter": text, "$top": "5"})
    assert answer.status_code == 200 or 400 <= answer.status_code < 500, (text, answer.text)
    if answer.status_code >= 400:
        assert answer.json()["description"]


def test_tables_survive_the_hostile_filters(api: tuple[TestClient, Any]) -> None:
    client, engine = api
    for text in HOSTILE:
        assert client.get("/sta/v1.1/Things", params={"$filter": text}).status_code < 500
    with engine.connect() as con:
        observations = con.execute(sa.text("SELECT count(*) FROM tp_sta_observations")).scalar()
        things = con.execute(sa.text("SELECT count(*) FROM tp_sta_things")).scalar()
    assert observations == 200 and things == 1
    found = client.get(
        "/sta/v1.1/Observations",
        params={
            "$filter": "result gt 1000 and phenomenonTime lt 2000-07-19T00:00:00Z",
            "$count": "true",
        },
    )
    expected = [
        r for r in camels()[:200] if r[1] > 1000 and r[0] < datetime(2000, 7, 19, tzinfo=UTC)
    ]
    assert found.json()["@iot.count"] == len(expected) > 0
