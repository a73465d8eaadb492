"""WMS logic without HTTP: ``maps.wms.answer`` over a store, the caller's visibility a callable."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from terrapole.catalog.store import Store, open_store
from terrapole.config import Settings
from terrapole.maps.wms import answer
from terrapole.storage import LocalStorage

OGC = "{http://www.opengis.net/ogc}"
GETMAP = {"service": "WMS", "request": "GetMap", "crs": "EPSG:3857", "bbox": "0,0,10,10",
          "width": "8", "height": "8", "format": "image/png"}  # fmt: skip


class Asked:
    """The caller's hidden collections, counting how often they were asked for."""

    def __init__(self, hidden: frozenset[str] = frozenset()) -> None:
        self.hidden, self.calls = hidden, 0

    def __call__(self) -> frozenset[str]:
        self.calls += 1
        return self.hidden


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(Settings(data_dir=tmp_path))
    opened.create_collection({
        "type": "Collection", "stac_version": "1.0.0", "id": "secret", "description": "d",
        "license": "CC-BY-4.0", "links": [],
        "extent": {"spatial": {"bbox": [[0, 0, 1, 1]]}, "temporal": {"interval": [[None, None]]}},
    })  # fmt: skip
    yield opened
    opened.close()


def _code(content: object) -> str | None:
    assert isinstance(content, str)
    found = ET.fromstring(content).find(f"{OGC}ServiceException")
    return None if found is None else found.get("code")


def test_a_malformed_getmap_is_refused_before_the_caller_is_asked_for(
    store: Store, tmp_path: Path
) -> None:
    asked = Asked()
    params = {k: v for k, v in GETMAP.items() if k != "bbox"} | {"layers": "secret:truecolor"}
    done = answer(store, LocalStorage(tmp_path), params, url="http://x/wms", hidden=asked)
    assert (done.status, done.media_type) == (400, "text/xml")
    assert _code(done.content) == "MissingParameterValue"
    assert asked.calls == 0  # a bad token cannot turn a malformed request into a 401


def test_a_hidden_collection_is_no_layer(store: Store, tmp_path: Path) -> None:
    params = GETMAP | {"layers": "secret:truecolor"}
    seen = answer(store, LocalStorage(tmp_path), params, url="http://x/wms", hidden=Asked())
    asked = Asked(frozenset({"secret"}))
    hidden = answer(store, LocalStorage(tmp_path), params, url="http://x/wms", hidden=asked)
    assert (seen.status, seen.media_type) == (200, "image/png")  # no item there: a blank image
    assert isinstance(seen.content, bytes) and seen.content.startswith(b"\x89PNG")
    assert hidden.status == 400 and _code(hidden.content) == "LayerNotDefined"
    assert asked.calls == 1


def test_capabilities_name_the_url_they_are_served_at(store: Store, tmp_path: Path) -> None:
    done = answer(store, LocalStorage(tmp_path), {"request": "GetCapabilities"},
                  url="http://example.org/wms", hidden=Asked())  # fmt: skip
    assert (done.status, done.media_type) == (200, "text/xml")
    assert isinstance(done.content, str) and 'xlink:href="http://example.org/wms?"' in done.content
