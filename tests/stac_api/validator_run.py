"""Work in progress (not collected by pytest): stac-api-validator against a live server.

The live run currently ends with a connection reset on /stac/api.html; see the issue note.
"""

# ruff: noqa
from __future__ import annotations

from typing import Any

import pytest

from .live import offline_schemas


def run_validator(live_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from stac_api_validator.validations import QueryConfig, validate_api

    missing = offline_schemas(monkeypatch)
    classes = [
        "core",
        "browseable",
        "item-search",
        "features",
        "collections",
        "filter",
        "fields",
        "sort",
    ]
    warnings, errors = validate_api(
        root_url=f"{live_url}/stac/",
        ccs_to_validate=classes,
        collection="sentinel-2-l2a",
        geometry='{"type": "Polygon", "coordinates": [[[-105.2, 39.8], [-105.0, 39.8], [-105.0, 40.0], [-105.2, 40.0], [-105.2, 39.8]]]}',
        auth_bearer_token=None,
        auth_query_parameter=None,
        fields_nested_property="properties.eo:cloud_cover",
        validate_pagination=True,
        query_config=QueryConfig(*([None] * 13)),
        transaction_collection=None,
        headers=None,
        open_assets_urls=False,
    )
    assert not missing, f"schemas not kept in tests/data/schemas: {missing}"
    assert list(errors) == [], "\n".join(str(e) for e in errors)
