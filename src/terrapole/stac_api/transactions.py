"""The transaction extension with request bodies whose ``links`` are optional.

stac-pydantic's Item and Collection require ``links``; a client creating an item has none to
give (stac-api-validator posts none), and the server writes its own on every response. These
request models default ``links`` to an empty list; the response links come from ``links.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

import attr
from fastapi import Body
from pydantic import Field
from stac_fastapi.api.models import CollectionUri, ItemUri
from stac_fastapi.api.routes import create_async_endpoint
from stac_fastapi.extensions import TransactionExtension
from stac_pydantic import Collection, Item, ItemCollection
from stac_pydantic.links import Links


def _no_links() -> Links:
    return Links([])


class ItemIn(Item):
    """An item as a client sends it: ``links`` may be left out."""

    links: Links = Field(default_factory=_no_links)


class ItemCollectionIn(ItemCollection):
    """A FeatureCollection of items to create, each without links if it likes."""

    features: list[ItemIn]


class CollectionIn(Collection):
    """A collection as a client sends it: ``links`` may be left out."""

    links: Links = Field(default_factory=_no_links)


@attr.s
class PostItem(CollectionUri):
    """POST /collections/{collection_id}/items."""

    item: Annotated[ItemIn | ItemCollectionIn, Body()] = attr.ib(default=None)


@attr.s
class PutItem(ItemUri):
    """PUT /collections/{collection_id}/items/{item_id}."""

    item: Annotated[ItemIn, Body()] = attr.ib(default=None)


@attr.s
class PutCollection(CollectionUri):
    """PUT /collections/{collection_id}."""

    collection: Annotated[CollectionIn, Body()] = attr.ib(default=None)


@attr.s
class LinkFreeTransactionExtension(TransactionExtension):
    """stac-fastapi's transaction extension, creating and replacing with the models above."""

    def _route(self, name: str, path: str, method: str, endpoint: Any, status: int) -> None:
        self.router.add_api_route(
            name=name,
            path=path,
            status_code=status,
            response_class=self.response_class,
            methods=[method],
            endpoint=endpoint,
            dependencies=self.route_dependencies,
        )

    def register_create_item(self) -> None:
        """POST /collections/{collection_id}/items."""
        endpoint = create_async_endpoint(self.client.create_item, PostItem)
        self._route("Create Item", "/collections/{collection_id}/items", "POST", endpoint, 201)

    def register_update_item(self) -> None:
        """PUT /collections/{collection_id}/items/{item_id}."""
        endpoint = create_async_endpoint(self.client.update_item, PutItem)
        path = "/collections/{collection_id}/items/{item_id}"
        self._route("Update Item", path, "PUT", endpoint, 200)

    def register_create_collection(self) -> None:
        """POST /collections."""
        endpoint = create_async_endpoint(self.client.create_collection, CollectionIn)
        self._route("Create Collection", "/collections", "POST", endpoint, 201)

    def register_update_collection(self) -> None:
        """PUT /collections/{collection_id}."""
        endpoint = create_async_endpoint(self.client.update_collection, PutCollection)
        self._route("Update Collection", "/collections/{collection_id}", "PUT", endpoint, 200)
