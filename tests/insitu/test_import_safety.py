"""An import never reads a file beyond what was uploaded, and refuses unreadable files
cleanly: the review's findings on mapping side files (a producer reading server files back
through the public API) and on binary uploads (500 from the CSV reader)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.errors import InvalidInput
from terrapole.insitu import NOTHING_HIDDEN, InsituStore
from terrapole.insitu.mapping import load_mapping

IMPORT = "/admin/insitu/import"
PASSWORD = "a long enough passphrase 42"
DATA = b"station,time,value\nSECRET_KEY,2020-01-01T00:00:00Z,1\n"


def _mapping(side_file: str) -> str:
    """A mapping whose station names come from ``side_file``, read as ``key=value`` lines."""
    return f"""
[source]
format = "csv"
[producer]
identifier = "P"
name = "P"
[dataset]
identifier = "D"
title = "D"
[sensor]
name = "S"
[station]
column = "station"
[[station.metadata]]
file = "{side_file}"
format = "csv"
delimiter = "="
header = false
columns = ["k", "v"]
id = "k"
name = "v"
[time]
columns = ["time"]
format = "%Y-%m-%dT%H:%M:%S%z"
[[series]]
column = "value"
property = "P"
definition = "http://example.org/p"
unit = "m"
"""


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Any:
    return create_app(Settings(data_dir=tmp_path / "data", database_url=database_url))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as opened:
        yield opened


@pytest.fixture
def producer(app: Any) -> dict[str, str]:
    accounts = app.state.services.accounts
    user = accounts.create_verified("obs@ozcar.fr", PASSWORD, "obs", roles=frozenset({"producer"}))
    return {"Authorization": f"Bearer {accounts.create_token(user.id, 'import')[1]}"}


@pytest.fixture
def server_secret(tmp_path: Path) -> Path:
    secret = tmp_path / "fake.env"
    secret.write_text("SECRET_KEY=hunter2\n")
    return secret


def test_an_uploaded_mapping_cannot_name_a_server_file_as_station_metadata(
    app: Any, client: TestClient, producer: dict[str, str], server_secret: Path
) -> None:
    for side in (str(server_secret), "../../../../../../../../" + str(server_secret)[1:]):
        files = [("file", ("data.csv", DATA)), ("mapping", ("m.toml", _mapping(side).encode()))]
        answer = client.post(IMPORT, files=files, headers=producer)
        assert answer.status_code == 400, answer.text
        assert "[station.metadata][0].file" in answer.json()["description"]
    assert InsituStore(app.state.services.access.engine).datasets(hidden=NOTHING_HIDDEN) == []
    shown = client.get("/sta/v1.1/Things", params={"$filter": "startswith(name,'hunter')"})
    assert shown.status_code == 200 and shown.json()["value"] == []


def test_an_uploaded_side_file_beside_the_mapping_is_still_read(
    client: TestClient, producer: dict[str, str]
) -> None:
    files = [
        ("file", ("data.csv", DATA)),
        ("mapping", ("m.toml", _mapping("meta/names.txt").encode())),
        ("files", ("meta/names.txt", b"SECRET_KEY=a public name\n")),
    ]
    answer = client.post(IMPORT, files=files, headers=producer)
    assert answer.status_code == 200, answer.text
    (thing,) = client.get("/sta/v1.1/Things").json()["value"]
    assert thing["name"] == "a public name"


@pytest.mark.parametrize("side", ["/etc/passwd", "../fake.env", "meta/../../fake.env", " "])
def test_a_mapping_on_disk_names_side_files_inside_its_folder_only(
    tmp_path: Path, server_secret: Path, side: str
) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "m.toml").write_text(_mapping(side))
    with pytest.raises(InvalidInput, match=r"\[station.metadata\]\[0\].file"):
        load_mapping(folder / "m.toml")


PASTAS = Path(__file__).parents[2] / "demo" / "insitu" / "pastas_nl"


def test_a_binary_file_is_a_400_not_a_500(client: TestClient, producer: dict[str, str]) -> None:
    noise = bytes((n * 7919 + 13) % 256 for n in range(4096)) + b'"\r"\n' * 3
    files = [
        ("file", ("rain_260.csv", noise)),
        ("mapping", ("rain_260.toml", (PASTAS / "rain_260.toml").read_bytes())),
    ]
    answer = client.post(IMPORT, files=files, headers=producer)
    assert answer.status_code == 400, answer.text
    assert "rain_260.csv" in answer.json()["description"]


def test_a_quoted_line_with_a_carriage_return_is_a_bad_row_with_its_line(
    client: TestClient, producer: dict[str, str]
) -> None:
    lines = (PASTAS / "rain_260.csv").read_text().splitlines()
    lines[2] = '1980-01-0\r3,"0.6"'
    files = [
        ("file", ("rain_260.csv", ("\n".join(lines) + "\n").encode())),
        ("mapping", ("rain_260.toml", (PASTAS / "rain_260.toml").read_bytes())),
    ]
    answer = client.post(IMPORT, files=files, headers=producer)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["problems"] == 1 and report["rows"] == len(lines) - 1
    (bad,) = report["badRows"]
    assert bad["line"] == 3 and "unreadable CSV line" in bad["reason"]
    strict = client.post(IMPORT, files=files, data={"strict": "true"}, headers=producer)
    assert strict.status_code == 400 and "line 3" in strict.json()["description"]
