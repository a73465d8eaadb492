"""Delivering an order: its items copied into a collection only its entity (and admins) reads.

When an operator moves an order to ``delivered``, the products go into the entity's delivery
collection ``orders-<entity id>`` ("Deliveries to <entity name>"), made on the first delivery
and kept to the entity's members by the collection's terms (``entities``), so every read path
applies the same policy to it as to any restricted collection. An archive order delivers the
items it ordered; a tasking request the items of the new acquisition the operator names (ingested
beforehand, in any collection). Each copy keeps its assets (the stored files are linked or copied
under the delivery collection, so their downloads follow its terms), links to its original
(``derived_from``) and names the order (``terrapole:order``).

Nothing is half-written, though the catalogue and the access tables may live in two databases:
every check is made before any write (the move allowed, the items found and valid), then the
terms are declared (before the collection exists, so it is never readable by others), the files
are staged and swapped in, the copies written, and the order moved last. If the move fails
(another move won the race), the copies, the collection made for them and the files are taken
back, so the copies come first, the move after, and either both stay or neither does.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terrapole.access.entities import Entities
from terrapole.access.licences import terms_in, write_terms
from terrapole.access.order_workflow import Actor, State, check_transition
from terrapole.access.orders import Order, OrderBook
from terrapole.access.pricing import Kind
from terrapole.access.service import AccessService
from terrapole.catalog.documents import PreparedItem, enclosing_bbox, prepare_item
from terrapole.catalog.links import derived_from
from terrapole.catalog.model import SearchQuery
from terrapole.catalog.store import Store
from terrapole.errors import InvalidInput, NotFound
from terrapole.jsontypes import Json
from terrapole.storage import Storage

logger = logging.getLogger(__name__)

PREFIX = "orders-"
"""Delivery collections are named ``orders-<entity id>``."""
ORDER_PROPERTY = "terrapole:order"
MAX_ITEMS = 1000


def collection_id_for(entity_id: str) -> str:
    """The id of the collection ``entity_id``'s orders are delivered into."""
    return f"{PREFIX}{entity_id}"


@dataclass(frozen=True)
class Delivered:
    """An order delivered: the order as moved, its collection and the item ids written there."""

    order: Order
    collection_id: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class _Source:
    """An item to deliver, as found in the catalogue, and its collection's document."""

    collection_id: str
    item: Json
    collection: Json


def delivered_copy(item: Json, *, order_id: str, collection_id: str) -> Json:
    """The copy of ``item`` written into the delivery collection: the same document and
    assets (stored files re-pointed under the delivery collection), a ``derived_from`` link
    to the original and the order's id in ``terrapole:order``.

    >>> copy = delivered_copy({"id": "a", "collection": "s2", "properties": {}, "assets":
    ...     {"B4": {"href": "/assets/s2/a/B4.tif"}}}, order_id="o1", collection_id="orders-e")
    >>> copy["assets"]["B4"]["href"], copy["properties"]["terrapole:order"]
    ('/assets/orders-e/a/B4.tif', 'o1')
    """
    source, ident = str(item["collection"]), str(item["id"])
    old, new = f"/assets/{source}/{ident}/", f"/assets/{collection_id}/{ident}/"
    assets: dict[str, Any] = {}
    for key, asset in (item.get("assets") or {}).items():
        href = asset.get("href")
        moved = isinstance(href, str) and href.startswith(old)
        assets[key] = {**asset, "href": new + href[len(old) :]} if moved else dict(asset)
    own = {"self", "parent", "collection", "root"}
    links = [link for link in item.get("links", []) if link.get("rel") not in own]
    return {
        **item,
        "collection": collection_id,
        "properties": {**item.get("properties", {}), ORDER_PROPERTY: order_id},
        "assets": assets,
        "links": [*links, derived_from(source, ident)],
    }


def delivery_collection(
    existing: Json | None,
    *,
    collection_id: str,
    entity_name: str,
    copies: Sequence[Json],
    sources: Sequence[Json],
) -> Json:
    """The delivery collection with its extent widened to ``copies``, its licence the one its
    products share (else ``various``) and the providers of the source collections."""
    doc: Json = existing or {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": collection_id,
        "title": f"Deliveries to {entity_name}",
        "description": f"Products ordered by {entity_name} and delivered by the hub; readable "
        "by its members and the hub's operators only.",
        "keywords": ["delivery", "order"],
        "links": [],
    }
    boxes = [c["bbox"] for c in copies if c.get("bbox")]
    times = [t for c in copies for t in _times(c)]
    if existing is not None:
        boxes += [b for b in existing["extent"]["spatial"]["bbox"] if len(b) in (4, 6)]
        times += [t for t in existing["extent"]["temporal"]["interval"][0] if t]
    licences = {str(s.get("license") or "other") for s in sources}
    if existing is not None:
        licences.add(str(existing.get("license") or "other"))
    providers = {p["name"]: p for p in doc.get("providers", []) if isinstance(p, dict)}
    for source in sources:
        for provider in source.get("providers") or []:
            if isinstance(provider, dict) and provider.get("name"):
                providers.setdefault(str(provider["name"]), provider)
    extent = {
        "spatial": {"bbox": [list(enclosing_bbox(boxes))] if boxes else [[-180, -90, 180, 90]]},
        "temporal": {"interval": [[min(times), max(times)] if times else [None, None]]},
    }
    return {
        **doc,
        "license": licences.pop() if len(licences) == 1 else "various",
        "providers": list(providers.values()),
        "extent": extent,
    }


def _times(item: Json) -> list[str]:
    props = item.get("properties", {})
    return [str(props[k]) for k in ("datetime", "start_datetime", "end_datetime") if props.get(k)]


class Delivery:
    """Delivers orders into their entity's collection (see the module's description)."""

    def __init__(
        self,
        store: Store,
        storage: Storage,
        orders: OrderBook,
        entities: Entities,
        access: AccessService,
    ) -> None:
        self.store = store
        self.storage = storage
        self.orders = orders
        self.entities = entities
        self.access = access

    def deliver(
        self, actor: Actor, order_id: str, *, items: Sequence[str] = (), note: str = ""
    ) -> Delivered:
        """Move the order to ``delivered`` with its items copied into the entity's collection.

        ``items``: for a tasking request, the acquisition's items, each ``collection/item`` or
        a bare item id found in one collection; an archive order delivers what it ordered and
        takes none. Raises InvalidInput (none named, too many, ambiguous), NotFound (an item
        or the order), Forbidden or InvalidOrderTransition, and then writes nothing.
        """
        order = self.orders.get(actor, order_id)
        roles = actor.roles(owner=order.owner, entity_id=order.entity_id)
        check_transition(order.id, order.kind, order.state, State.DELIVERED, roles)
        target = collection_id_for(order.entity_id)
        sources = [self._source(c, i) for c, i in self._wanted(order, items)]
        copies = [delivered_copy(s.item, order_id=order.id, collection_id=target) for s in sources]
        prepared = [prepare_item(c, collection=target) for c in copies]
        with self.access.engine.begin() as con:  # kept to the entity before it exists
            held = terms_in(con, target)
            profiles = [p.value for p in held.profiles]
            write_terms(con, target, held.licences, profiles, [*held.entities, order.entity_id])
        self.access.forget()
        with ExitStack() as files:
            for source in sources:
                files.enter_context(self._files(source, target))
            moved = self._write(actor, order, target, prepared, copies, sources, note)
        self.access.forget()
        return Delivered(moved, target, tuple(p.id for p in prepared))

    # -- what to deliver ----------------------------------------------------------------------

    def _wanted(self, order: Order, items: Sequence[str]) -> list[tuple[str | None, str]]:
        if order.kind is Kind.ARCHIVE:
            if items:
                raise InvalidInput("items", "an archive order delivers the items it ordered")
            collection = str(order.request["collection"])
            return [(collection, str(i)) for i in order.request["items"]]
        named = [i.strip() for i in items if i.strip()]
        if not named:
            raise InvalidInput(
                "items", "a tasking request is delivered with the ids of the acquisition's items"
            )
        if len(named) > MAX_ITEMS:
            raise InvalidInput("items", f"at most {MAX_ITEMS} items in one delivery")
        refs: list[tuple[str | None, str]] = []
        for ref in dict.fromkeys(named):
            collection, _, item = ref.rpartition("/")
            refs.append((collection or None, item))
        ids = [i for _, i in refs]
        if len(set(ids)) != len(ids):
            raise InvalidInput("items", "two items of one delivery have the same id")
        return refs

    def _source(self, collection_id: str | None, item_id: str) -> _Source:
        if collection_id is None:
            collection_id = self._find(item_id)
        if collection_id.startswith(PREFIX):
            raise InvalidInput("items", f"{item_id!r} is already a delivered copy")
        item = self.store.get_item(collection_id, item_id)
        return _Source(collection_id, item, self.store.get_collection(collection_id))

    def _find(self, item_id: str) -> str:
        """The one collection (deliveries apart) holding an item ``item_id``."""
        page = self.store.search(SearchQuery(ids=(item_id,), limit=100))
        held = {str(i["collection"]) for i in page.items}
        found = sorted(c for c in held if not c.startswith(PREFIX))
        if not found:
            raise NotFound("item", item_id)
        if len(found) > 1:
            raise InvalidInput(
                "items", f"{item_id!r} is in {', '.join(found)}: name it as collection/item"
            )
        return found[0]

    # -- writing ------------------------------------------------------------------------------

    @contextmanager
    def _files(self, source: _Source, target: str) -> Iterator[None]:
        """The source item's stored files put under ``<target>/<item>`` for the body's time
        and kept after it; taken back (the previous ones restored) if the body raises."""
        ident = str(source.item["id"])
        prefix = f"{source.collection_id}/{ident}/"
        keys = self.storage.list(prefix.rstrip("/"))
        if not keys:
            yield
            return
        staged = self.storage.new_staging("delivery")
        try:
            for key in keys:
                into = staged / key[len(prefix) :]
                into.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(self.storage.local_path(key), into)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        with self.storage.publish(staged, f"{target}/{ident}"):
            yield

    def _write(
        self,
        actor: Actor,
        order: Order,
        target: str,
        prepared: list[PreparedItem],
        copies: list[Json],
        sources: list[_Source],
        note: str,
    ) -> Order:
        """Write the collection and the copies, then move the order; undo the writes if the
        move (or a write) fails."""
        existing = self._existing_collection(target)
        before = {p.id: self._existing_item(target, p.id) for p in prepared}
        name = self._entity_name(order.entity_id)
        doc = delivery_collection(
            existing,
            collection_id=target,
            entity_name=name,
            copies=copies,
            sources=[s.collection for s in sources],
        )
        try:
            self.store.upsert_collection(doc)
            self.store.load_items(prepared, on_conflict="upsert")
            said = note or f"{len(prepared)} item(s) delivered into {target}"
            return self.orders._mark_delivered(actor, order.id, said)
        except BaseException:
            self._undo(target, existing, before)
            raise

    def _undo(self, target: str, existing: Json | None, before: dict[str, Json | None]) -> None:
        if existing is None:
            try:
                self.store.delete_collection(target)
            except NotFound:
                pass
            return
        for ident, old in before.items():
            try:
                if old is None:
                    self.store.delete_item(target, ident)
                else:
                    self.store.load_items([prepare_item(old)], on_conflict="upsert")
            except NotFound:
                pass
        self.store.upsert_collection(existing)

    def _existing_collection(self, collection_id: str) -> Json | None:
        try:
            return self.store.get_collection(collection_id)
        except NotFound:
            return None

    def _existing_item(self, collection_id: str, item_id: str) -> Json | None:
        try:
            return self.store.get_item(collection_id, item_id)
        except NotFound:
            return None

    def _entity_name(self, entity_id: str) -> str:
        try:
            return self.entities.get(entity_id).name
        except NotFound:  # the ledger names entities the accounts may not hold
            return entity_id


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link (same disk: no bytes copied) or, failing that, a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
