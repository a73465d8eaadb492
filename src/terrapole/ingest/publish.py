"""The one path from a staged product to the catalogue: files swapped in, item written.

Ingest, production chains and on-demand jobs all end here. A product is staged first (its
files in a staging folder, its item document built: :class:`Staged`); :func:`publish` then
makes the collection if it is new, swaps the folder in at ``<collection>/<item>`` and upserts the
item in one store transaction, and merges the item into the collection's extent. Anything
refused (an invalid item, a store or storage failure) raises :class:`~terrapole.errors.NotPublished`
and leaves nothing behind: no file, no item, no collection made for it; the previous version of
the item, if any, stays in place.

Items that are made from others (chains, jobs) name them with ``derived_from`` links, built here
by :func:`terrapole.catalog.links.derived_from`; their provenance properties share
:func:`provenance`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from terrapole.catalog.documents import prepare_item
from terrapole.catalog.links import derived_from
from terrapole.catalog.store import Store
from terrapole.errors import AlreadyExists, NotFound, NotPublished, TerrapoleError
from terrapole.ingest.items import merged_collection
from terrapole.jsontypes import Json
from terrapole.software import software
from terrapole.storage import Storage


@dataclass(frozen=True)
class Staged:
    """A product's files written to ``folder`` and its item document, not yet published."""

    collection: str
    item_id: str
    folder: str
    item: Json
    defaults: Json = field(default_factory=dict)


@dataclass(frozen=True)
class Published:
    """An item now in the catalogue, its files in storage under ``<collection>/<item_id>``."""

    collection: str
    item_id: str
    item: Json  # the document as written (with its derived_from links)
    assets: dict[str, str]  # asset key -> href (server-relative for stored files)
    created_collection: bool  # the collection was made for this item


def provenance(lineage: str) -> Json:
    """The ``processing:*`` fields every item terrapole makes carries: the software that made
    it (terrapole with its commit and the computing libraries) and one sentence of lineage."""
    return {"processing:software": software(), "processing:lineage": lineage}


def _with_links(item: Json, sources: Iterable[tuple[str, str]]) -> Json:
    links = [*item.get("links", []), *(derived_from(c, i) for c, i in sources)]
    return {**item, "links": links}


def publish(
    store: Store, storage: Storage, staged: Staged, *, sources: Iterable[tuple[str, str]] = ()
) -> Published:
    """Publish ``staged``: its folder swapped in, its item upserted; all of it or nothing.

    ``sources``: the ``(collection, item id)`` of the items it was made from, linked as
    ``derived_from``. The staged folder is gone afterwards (moved into storage, or removed).
    Raises :class:`~terrapole.errors.NotPublished` (nothing kept) when refused. Callers that
    publish into one collection from several threads serialise the calls (the collection's
    extent is read, merged and written back).
    """
    item = _with_links(staged.item, sources)
    folder = Path(staged.folder)
    created = False
    try:
        prepared = prepare_item(item)
        try:
            store.get_collection(staged.collection)
        except NotFound:
            defaults = staged.defaults or None
            try:
                store.create_collection(
                    merged_collection(defaults, staged.collection, [item], new=True)
                )
                created = True
            except AlreadyExists:  # made meanwhile by another publisher: use it
                pass
        with storage.publish(folder, f"{staged.collection}/{staged.item_id}"):
            store.load_items([prepared], on_conflict="upsert")
        store.upsert_collection(
            merged_collection(store.get_collection(staged.collection), staged.collection, [item])
        )
    except TerrapoleError as exc:
        if created:
            store.delete_collection(staged.collection)
        raise NotPublished(staged.collection, staged.item_id, str(exc)) from exc
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
    assets = {key: str(asset["href"]) for key, asset in item.get("assets", {}).items()}
    return Published(staged.collection, staged.item_id, item, assets, created)
