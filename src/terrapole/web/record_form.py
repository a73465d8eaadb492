"""The FAIRisation editor's form ↔ a :class:`~terrapole.fair.model.Record`.

The editor names each input by the DataCite JSON path of the value it holds
(``creators[0].nameIdentifiers[0].nameIdentifier``, ``extras.temporalExtent.start``): the
same path :func:`terrapole.fair.checks.problems` names, so a problem is shown beside its
input without a table of names, and the page's script and the server read one form one way.
:func:`record_of_fields` builds the record's JSON from those paths and lets
:meth:`Record.from_json` check it; :func:`fields_of_record` flattens a record back, so what the
editor does not show (sizes, formats, related items...) travels in hidden inputs and no save
loses it. The pick lists come from the DataCite 4.5 JSON schema of the ``datacite`` package.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from terrapole.errors import InvalidInput
from terrapole.fair.model import Record

MAX_FIELDS = 2000
"""The most inputs an editor's post may carry (a record with many creators and keywords)."""

MAX_INDEX = 499
"""The largest list index a field name may use."""

ROOTS = frozenset(
    {
        "titles", "creators", "publisher", "publicationYear", "types", "doi",
        "alternateIdentifiers", "subjects", "contributors", "dates", "language",
        "relatedIdentifiers", "relatedItems", "sizes", "formats", "version", "rightsList",
        "descriptions", "geoLocations", "fundingReferences", "extras",
    }
)  # fmt: skip
"""The record's top-level properties: other posted fields (the CSRF token, the action) are
not part of the record."""

NUMBERS = frozenset(
    {
        "pointLongitude", "pointLatitude", "westBoundLongitude", "eastBoundLongitude",
        "southBoundLatitude", "northBoundLatitude", "spatialExtent",
    }
)  # fmt: skip
"""Properties whose values are numbers (the form posts text)."""

TOPIC_CATEGORIES = (
    "farming", "biota", "boundaries", "climatologyMeteorologyAtmosphere", "economy",
    "elevation", "environment", "geoscientificInformation", "health",
    "imageryBaseMapsEarthCover", "intelligenceMilitary", "inlandWaters", "location",
    "oceans", "planningCadastre", "society", "structure", "transportation",
    "utilitiesCommunication",
)  # fmt: skip
"""ISO 19115 MD_TopicCategoryCode, the values of ``extras.topicCategories``."""

COMMON_LICENCES = (
    "CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "etalab-2.0", "ODbL-1.0", "ODC-By-1.0",
    "PDDL-1.0", "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0", "MIT", "Apache-2.0", "GPL-3.0-or-later",
)  # fmt: skip
"""SPDX ids the licence picker offers first (any SPDX id is accepted)."""

PAIRED = {
    "nameIdentifierScheme": "nameIdentifier",
    "affiliationIdentifierScheme": "affiliationIdentifier",
    "publisherIdentifierScheme": "publisherIdentifier",
    "rightsIdentifierScheme": "rightsIdentifier",
    "funderIdentifierType": "funderIdentifier",
}
"""Schemes the form always posts and the identifier they qualify: without it, both the scheme
and its ``schemeUri`` are dropped."""

_STEP = re.compile(r"([A-Za-z]+)((?:\[[0-9]{1,4}\])*)")
_INDEX = re.compile(r"\[([0-9]+)\]")


def _is_qualifier(key: str) -> bool:
    """Whether ``key`` only qualifies a value (its scheme, type or language): an entry holding
    nothing else is an empty row of the form and is dropped."""
    return key.endswith(("Scheme", "Type")) or key in ("schemeUri", "lang", "nameType")


def steps(path: str) -> list[str | int]:
    """``creators[0].name`` → ``["creators", 0, "name"]``; InvalidInput for another shape."""
    out: list[str | int] = []
    for part in path.split("."):
        match = _STEP.fullmatch(part)
        if match is None:
            raise InvalidInput(path, "is not a field of the record (name[index].name...)")
        out.append(match.group(1))
        for index in _INDEX.findall(match.group(2)):
            if int(index) > MAX_INDEX:
                raise InvalidInput(path, f"list indices go up to {MAX_INDEX}")
            out.append(int(index))
    return out


def _put(tree: dict[Any, Any], path: str, value: str) -> None:
    """Set ``value`` at ``path`` in a tree of dicts (list indices are int keys for now)."""
    parts = steps(path)
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise InvalidInput(path, "names both a value and a group of values")
        node = child
    if isinstance(node.get(parts[-1]), dict):
        raise InvalidInput(path, "names both a value and a group of values")
    last = parts[-1]
    name = (
        last
        if isinstance(last, str)
        else next((p for p in reversed(parts) if isinstance(p, str)), "")
    )
    node[last] = _number(path, value) if name in NUMBERS and value else value


def _number(path: str, value: str) -> float:
    try:
        return float(value.replace(",", "."))
    except ValueError:
        raise InvalidInput(path, f"{value!r} is not a number") from None


def _built(node: Any) -> Any:
    """The tree as JSON: int-keyed dicts as lists in index order, empty values and empty
    rows (only qualifiers left) dropped; None where nothing is left."""
    if not isinstance(node, dict):
        if isinstance(node, str):
            node = node.strip()
        return node if node != "" else None
    kept = {key: _built(child) for key, child in node.items()}
    kept = {key: child for key, child in kept.items() if child is not None}
    if node and all(isinstance(key, int) for key in node):
        items = [kept[key] for key in sorted(kept)]
        return items or None
    for scheme, identifier in PAIRED.items():
        if scheme in kept and identifier not in kept:
            del kept[scheme]
            kept.pop("schemeUri", None)
    if not kept or all(isinstance(k, str) and _is_qualifier(k) for k in kept):
        return None
    return kept


def json_of_fields(fields: Mapping[str, str]) -> dict[str, Any]:
    """The record JSON (``Record.to_json``'s shape) the editor's fields hold; other fields are
    ignored. The ISO spatial extent is the first geolocation's box, as the editor draws it."""
    if len(fields) > MAX_FIELDS:
        raise InvalidInput("form", f"more than {MAX_FIELDS} fields")
    tree: dict[Any, Any] = {}
    for path, value in fields.items():
        if path.split(".", 1)[0].split("[", 1)[0] in ROOTS:
            _put(tree, path, value)
    data = _built(tree) or {}
    extras = data.setdefault("extras", {})
    extras.pop("spatialExtent", None)
    box = next((g["geoLocationBox"] for g in data.get("geoLocations", [])
                if "geoLocationBox" in g), None)  # fmt: skip
    if box is not None and len(box) == 4:
        extras["spatialExtent"] = [
            box["westBoundLongitude"], box["southBoundLatitude"],
            box["eastBoundLongitude"], box["northBoundLatitude"],
        ]  # fmt: skip
    if not extras:
        data.pop("extras")
    return data


def record_of_fields(fields: Mapping[str, str]) -> Record:
    """The record the editor's fields hold; InvalidInput names the first malformed field."""
    return Record.from_json(json_of_fields(fields))


def fields_of_record(record: Record) -> dict[str, str]:
    """The editor's fields of ``record``: every value by its path, as text."""
    return dict(_flat(record.to_json(), ""))


def _flat(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _flat(child, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _flat(child, f"{path}[{index}]")
    elif isinstance(node, float) and node.is_integer():
        yield path, str(int(node))
    else:
        yield path, str(node)


@cache
def datacite_choices() -> dict[str, tuple[str, ...]]:
    """The DataCite 4.5 controlled lists (``resourceTypeGeneral``, ``relationType``,
    ``dateType``...), read from the ``datacite`` package's JSON schema."""
    schema = json.loads(
        files("datacite").joinpath("schemas/datacite-v4.5.json").read_text(encoding="utf-8")
    )
    return {
        name: tuple(spec["enum"])
        for name, spec in schema["definitions"].items()
        if isinstance(spec, dict) and "enum" in spec
    }
