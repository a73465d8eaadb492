"""Validate STAC documents against the JSON Schemas kept in tests/data/schemas (no network)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

SCHEMAS = Path(__file__).resolve().parent / "data" / "schemas"


def _retrieve(uri: str) -> Resource:
    path = SCHEMAS / uri.split("://", 1)[-1].split("#", 1)[0]
    if not path.is_file():
        raise NoSuchResource(ref=uri)
    return Resource.from_contents(json.loads(path.read_text()))


@cache
def _registry() -> Registry:
    return Registry(retrieve=_retrieve)  # type: ignore[call-arg]


def stac_errors(doc: dict[str, Any]) -> list[str]:
    """Every schema error of ``doc``: core (Item or Collection) plus each declared extension."""
    version = doc["stac_version"]
    kind = "item" if doc["type"] == "Feature" else "collection"
    urls = [f"https://schemas.stacspec.org/v{version}/{kind}-spec/json-schema/{kind}.json"]
    urls += doc.get("stac_extensions", [])
    errors: list[str] = []
    for url in urls:
        schema = _retrieve(url).contents
        validator = Draft7Validator(schema, registry=_registry())
        errors += [f"{url}: {e.json_path}: {e.message}" for e in validator.iter_errors(doc)]
    return errors
