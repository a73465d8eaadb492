"""Where the STAC API serves an item, and the links other items make to it.

One rule for the item route (``collections/{collection}/items/{item}`` under the STAC API's
root), used by everything that writes a link to an item: the publish path's ``derived_from``
links (stored server-relative, made absolute when served) and the job results' item link.
"""

from __future__ import annotations

from terrapole.jsontypes import Json

STAC_ROOT = "/stac/"  # where the app mounts the STAC API, server-relative
GEOJSON = "application/geo+json"


def item_path(collection: str, item_id: str) -> str:
    """An item's route relative to the STAC API root: ``collections/<c>/items/<i>``."""
    return f"collections/{collection}/items/{item_id}"


def item_href(collection: str, item_id: str, root: str = STAC_ROOT) -> str:
    """An item's URL under ``root`` (server-relative by default: ``/stac/collections/…``)."""
    return root + item_path(collection, item_id)


def derived_from(collection: str, item_id: str) -> Json:
    """A ``derived_from`` link to an input item, server-relative (see ``stac_api.links``)."""
    return {
        "rel": "derived_from",
        "href": item_href(collection, item_id),
        "type": GEOJSON,
        "title": item_id,
    }
