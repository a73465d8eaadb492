"""Which in-situ rows a principal may see: the access policy's answer applied in SQL.

A dataset is known to the access policy by its ``access_key`` (``insitu-<id>`` unless given),
exactly as a collection is known by its id: restrictions and terms name it, and
``AccessService.hidden_for(principal)`` returns it among the hidden keys. Every read of the
store takes that ``hidden`` set and filters in the query, never after it:

- a Thing is hidden when its dataset's key is hidden (Things without a dataset are open);
- its Datastreams, their Observations and its HistoricalLocations follow it;
- a Location is hidden when every Thing it is linked to is hidden (an unlinked one is open);
- Sensors, ObservedProperties and FeaturesOfInterest are shared descriptions, never hidden.

The HTTP adapter builds its own queries ($filter, $expand) and uses these expressions too.
"""

from __future__ import annotations

from collections.abc import Set

import sqlalchemy as sa

from terrapole.insitu.tables import datasets, datastreams, thing_locations, things

NOTHING_HIDDEN: frozenset[str] = frozenset()
"""The ``hidden`` of an admin, an import or a migration: every row visible."""


def access_key(dataset_id: int) -> str:
    """The default access key of dataset ``dataset_id``.

    >>> access_key(3)
    'insitu-3'
    """
    return f"insitu-{dataset_id}"


def hidden_dataset_ids(hidden: Set[str]) -> sa.Select[tuple[int]]:
    """The ids of the datasets whose access key is in ``hidden``."""
    return sa.select(datasets.c.id).where(datasets.c.access_key.in_(sorted(hidden)))


def thing_visible(
    thing_dataset: sa.ColumnElement[int | None], hidden: Set[str]
) -> sa.ColumnElement[bool]:
    """Condition on a Thing's ``dataset_id`` column: true unless its dataset is hidden."""
    if not hidden:
        return sa.true()
    return sa.or_(thing_dataset.is_(None), thing_dataset.not_in(hidden_dataset_ids(hidden)))


def visible_thing_ids(hidden: Set[str]) -> sa.Select[tuple[int]]:
    """The ids of the Things one may see."""
    return sa.select(things.c.id).where(thing_visible(things.c.dataset_id, hidden))


def datastream_visible(
    datastream_id: sa.ColumnElement[int], hidden: Set[str]
) -> sa.ColumnElement[bool]:
    """Condition on a Datastream id column (of datastreams or observations)."""
    if not hidden:
        return sa.true()
    ids = sa.select(datastreams.c.id).where(datastreams.c.thing_id.in_(visible_thing_ids(hidden)))
    return datastream_id.in_(ids)


def location_visible(
    location_id: sa.ColumnElement[int], hidden: Set[str]
) -> sa.ColumnElement[bool]:
    """Condition on a Location id column: linked to a visible Thing, or to none."""
    if not hidden:
        return sa.true()
    linked = sa.select(thing_locations.c.location_id)
    seen = linked.where(thing_locations.c.thing_id.in_(visible_thing_ids(hidden)))
    return sa.or_(location_id.not_in(linked), location_id.in_(seen))
