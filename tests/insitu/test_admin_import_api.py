"""The admin in-situ import over HTTP and the dataset downloads, with the demo's real files:
the CAMELS discharge of gauge 01022500 with its mapping and station side files, and the pivot
document built from the same series."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.insitu import NOTHING_HIDDEN, InsituStore, access_key
from terrapole.insitu.pivot import schema_violations

ROOT = Path(__file__).parents[2]
CAMELS = ROOT / "demo" / "insitu" / "camels_us"
SERIES = CAMELS / "usgs_streamflow" / "01022500_streamflow_qc.txt"
PIVOT = ROOT / "tests" / "data" / "insitu" / "pivot_camels"
PASSWORD = "a long enough passphrase 42"
IMPORT = "/admin/insitu/import"
DAYS = len(SERIES.read_text().splitlines())


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Any:
    return create_app(Settings(data_dir=tmp_path, database_url=database_url))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as opened:
        yield opened


def _bearer(app: Any, email: str, roles: frozenset[str]) -> dict[str, str]:
    accounts = app.state.services.accounts
    user = accounts.create_verified(email, PASSWORD, email.split("@")[0], roles=roles)
    return {"Authorization": f"Bearer {accounts.create_token(user.id, 'import')[1]}"}


@pytest.fixture
def admin(app: Any) -> dict[str, str]:
    return _bearer(app, "root@hub.fr", frozenset({"admin"}))


@pytest.fixture
def producer(app: Any) -> dict[str, str]:
    return _bearer(app, "obs@ozcar.fr", frozenset({"producer"}))


def _camels_files(mapping: bytes | None = None) -> list[tuple[str, tuple[str, bytes]]]:
    """The series, its mapping and the two station side files the mapping names."""
    return [
        ("file", (SERIES.name, SERIES.read_bytes())),
        ("mapping", ("streamflow.toml", mapping or (CAMELS / "streamflow.toml").read_bytes())),
        *(
            ("files", (f"attributes/{name}", (CAMELS / "attributes" / name).read_bytes()))
            for name in ("camels_name.txt", "camels_topo.txt")
        ),
    ]


def _pivot_files() -> list[tuple[str, tuple[str, bytes]]]:
    doc = PIVOT / "camels_01022500_pivot.json"
    data = PIVOT / "CAMU_OBS_01022500_Q.csv"
    return [("file", (doc.name, doc.read_bytes())), ("files", (data.name, data.read_bytes()))]


def _store(app: Any) -> InsituStore:
    return InsituStore(app.state.services.access.engine)


def test_a_camels_series_with_its_mapping_imports_and_again_adds_nothing(
    app: Any, client: TestClient, producer: dict[str, str]
) -> None:
    first = client.post(IMPORT, files=_camels_files(), headers=producer)
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["format"] == "table" and report["file"] == SERIES.name
    assert report["rows"] == DAYS and report["problems"] == 0 and report["badRows"] == []
    assert report["inserted"] + report["missing"] == DAYS and report["inserted"] > 1000
    store = _store(app)
    (thing,) = store.things(hidden=NOTHING_HIDDEN, dataset_id=report["dataset"])
    assert thing.identifier == "01022500" and "Narraguagus" in thing.name  # from the side file
    (stream,) = store.datastreams_of(thing.id or 0, hidden=NOTHING_HIDDEN)
    assert store.get_observed_property(stream.observed_property_id).categories  # Theia category
    again = client.post(IMPORT, files=_camels_files(), headers=producer).json()
    assert again["inserted"] == 0 and again["duplicates"] == report["inserted"]


def test_bad_rows_are_reported_by_line_and_strict_refuses_the_file(
    app: Any, client: TestClient, admin: dict[str, str]
) -> None:
    lines = SERIES.read_text().splitlines()
    lines[9] = lines[9].replace(" 2000 ", " 2O00 ")  # a letter O in a year
    files = _camels_files()
    files[0] = ("file", (SERIES.name, ("\n".join(lines) + "\n").encode()))
    refused = client.post(IMPORT, files=files, data={"strict": "true"}, headers=admin)
    assert refused.status_code == 400
    assert "line 10" in refused.json()["description"] and "nothing imported" in refused.text
    assert _store(app).datasets(hidden=NOTHING_HIDDEN) == []
    kept = client.post(IMPORT, files=files, headers=admin).json()
    assert kept["problems"] == 1 and kept["badRows"][0]["line"] == 10
    assert "2O00" in kept["badRows"][0]["reason"]


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda t: t.replace('unit = "[ft_i]3/s"', 'unit = "furlongs"'), "[[series]][0].unit"),
        (lambda t: t.replace('zone = "America/New_York"', 'zone = "Mars/Olympus"'), "[time].zone"),
        (lambda t: t.replace('format = "whitespace"', 'format = "xlsx"'), "[source].format"),
        (lambda t: t.replace("[time]", "[timing]"), "[time]"),
    ],
)
def test_a_bad_mapping_is_a_400_naming_the_key_and_nothing_is_written(
    app: Any, client: TestClient, admin: dict[str, str], edit: Any, named: str
) -> None:
    mapping = edit((CAMELS / "streamflow.toml").read_text()).encode()
    answer = client.post(IMPORT, files=_camels_files(mapping), headers=admin)
    assert answer.status_code == 400
    assert named in answer.json()["description"]
    assert _store(app).datasets(hidden=NOTHING_HIDDEN) == []


def test_bad_forms_are_400s_naming_what_is_wrong(client: TestClient, admin: dict[str, str]) -> None:
    def refused(**kwargs: Any) -> str:
        answer = client.post(IMPORT, headers=admin, **kwargs)
        assert answer.status_code == 400, answer.text
        return str(answer.json()["description"])

    assert "multipart/form-data" in refused(content=b"Q=1")
    assert "file" in refused(files=[("mapping", ("m.toml", b"x"))])
    assert "mapping" in refused(files=_camels_files()[:1])
    assert "'..'" in refused(files=[*_camels_files(), ("files", ("../up.txt", b"x"))])
    assert "dataset" in refused(files=_camels_files(), data={"dataset": "first"})
    assert "strict" in refused(files=_camels_files(), data={"strict": "maybe"})
    assert "colour" in refused(files=_camels_files(), data={"colour": "red"})
    assert "not valid TOML" in refused(files=_camels_files(b"[source"))
    # a pivot document whose data file was not sent: every violation named, nothing stored
    assert "CAMU_OBS_01022500_Q.csv" in refused(files=_pivot_files()[:1])


def test_anonymous_is_401_and_an_account_without_the_role_403(app: Any, client: TestClient) -> None:
    assert client.post(IMPORT, files=_camels_files()).status_code == 401
    reader = _bearer(app, "reader@lab.fr", frozenset())
    answer = client.post(IMPORT, files=_camels_files(), headers=reader)
    assert answer.status_code == 403 and "producer" in answer.json()["description"]
    assert _store(app).datasets(hidden=NOTHING_HIDDEN) == []


def test_an_upload_past_the_limit_is_a_413(tmp_path: Path, database_url: str) -> None:
    small = create_app(
        Settings(data_dir=tmp_path, database_url=database_url, insitu_max_upload_bytes=10_000)
    )
    headers = _bearer(small, "root@hub.fr", frozenset({"admin"}))
    with TestClient(small) as client:
        answer = client.post(IMPORT, files=_camels_files(), headers=headers)
    assert answer.status_code == 413 and "10000 bytes" in answer.json()["description"]
    assert _store(small).datasets(hidden=NOTHING_HIDDEN) == []


def test_a_dataset_downloads_as_csv_and_a_hidden_one_is_a_404(
    app: Any, client: TestClient, admin: dict[str, str]
) -> None:
    report = client.post(IMPORT, files=_camels_files(), headers=admin).json()
    url = f"/insitu/datasets/{report['dataset']}/export"
    answer = client.get(url, params={"format": "csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="CAMELS_DAT_streamflow.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == report["inserted"]
    assert rows[0]["phenomenonTimeStart"].startswith("2000-01-01T05:00:00")  # New York day
    assert client.get(url, params={"format": "xlsx"}).status_code == 400
    assert client.get("/insitu/datasets/999/export").status_code == 404
    page = client.get(f"/insitu/datasets/{report['dataset']}").text  # the portal links both
    assert f'href="http://testserver{url}?format=csv"' in page
    assert f'href="http://testserver{url}?format=pivot"' in page
    access = app.state.services.access
    access.restrict(access_key(report["dataset"]), ["hydro-lab"])
    access.forget()
    for fmt in ("csv", "pivot"):
        assert client.get(url, params={"format": fmt}).status_code == 404
    assert client.get(url, headers=admin).status_code == 200


def test_a_pivot_import_exports_as_a_zip_that_validates_against_the_schemas(
    client: TestClient, admin: dict[str, str]
) -> None:
    imported = client.post(IMPORT, files=_pivot_files(), headers=admin)
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert report["format"] == "pivot" and report["inserted"] > 1000
    (dataset,) = report["datasets"]
    answer = client.get(f"/insitu/datasets/{dataset}/export", params={"format": "pivot"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        doc = json.loads(archive.read("pivot.json"))
        assert schema_violations(doc) == []
        (observation,) = doc["datasets"][0]["observations"]
        data = archive.read(observation["result"]["dataFile"]["name"]).decode().splitlines()
    assert data[0].startswith("dateBeg;dateEnd") and len(data) - 1 == report["inserted"]
    again = client.post(IMPORT, files=_pivot_files(), headers=admin).json()
    assert again["inserted"] == 0


def test_a_series_imported_from_csv_has_no_pivot_metadata_and_says_so(
    client: TestClient, admin: dict[str, str]
) -> None:
    report = client.post(IMPORT, files=_camels_files(), headers=admin).json()
    answer = client.get(f"/insitu/datasets/{report['dataset']}/export?format=pivot")
    assert answer.status_code == 400 and "violation" in answer.json()["description"]


def test_an_import_into_a_hidden_dataset_is_refused_like_an_unknown_one(
    app: Any, client: TestClient, admin: dict[str, str], producer: dict[str, str]
) -> None:
    report = client.post(IMPORT, files=_camels_files(), headers=admin).json()
    access = app.state.services.access
    access.restrict(access_key(report["dataset"]), ["secret"])
    access.forget()
    store = _store(app)
    (thing,) = store.things(hidden=NOTHING_HIDDEN, dataset_id=report["dataset"])
    (stream,) = store.datastreams_of(thing.id or 0, hidden=NOTHING_HIDDEN)
    before = store.get_datastream(stream.id or 0, hidden=NOTHING_HIDDEN)
    hidden = client.post(
        IMPORT, files=_camels_files(), data={"dataset": str(report["dataset"])}, headers=producer
    )
    unknown = client.post(IMPORT, files=_camels_files(), data={"dataset": "999"}, headers=producer)
    assert hidden.status_code == unknown.status_code == 404
    assert (
        hidden.json()["description"].replace(str(report["dataset"]), "999")
        == (unknown.json()["description"])
    )
    by_name = client.post(IMPORT, files=_camels_files(), headers=producer)  # the mapping names it
    assert by_name.status_code == 403 and "CAMELS_DAT_streamflow" in by_name.text
    after = store.get_datastream(stream.id or 0, hidden=NOTHING_HIDDEN)
    assert after.phenomenon_time == before.phenomenon_time
    assert [d.id for d in store.datasets(hidden=NOTHING_HIDDEN)] == [report["dataset"]]
    kept = client.post(IMPORT, files=_camels_files(), headers=admin)  # an admin sees it all
    assert kept.status_code == 200 and kept.json()["duplicates"] == report["inserted"]


def test_a_pivot_document_naming_a_hidden_dataset_is_refused(
    app: Any, client: TestClient, admin: dict[str, str], producer: dict[str, str]
) -> None:
    (dataset,) = client.post(IMPORT, files=_pivot_files(), headers=admin).json()["datasets"]
    access = app.state.services.access
    access.restrict(access_key(dataset), ["secret"])
    access.forget()
    answer = client.post(IMPORT, files=_pivot_files(), headers=producer)
    assert answer.status_code == 403 and "restricted" in answer.json()["description"]
