"""Which in-situ rows a principal may see: the access policy's answer applied in SQL.

A dataset is known to the access policy by its ``access_key`` (``insitu-<id>`` unless given),
exactly as a collection is known by its id: restrictions and terms name it, and
``AccessService.hidden_for(principal)`` returns it among the hidden keys. Every read of the
store takes that ``hidden`` set and filters in the query, never after it:

- a Thing is hidden when its dataset's key is hidden (Things without a dataset are open);
- its Datastreams, their Observations and its HistoricalLocations follow it;
- a Location is hidden when every Thing it is linked to, now (``thing_locations``) or in a
  HistoricalLocation, is hidden (an unlinked one is open);
- Sensors, ObservedProperties and FeaturesOfInterest are shared descriptions: one is hidden
  when Datastreams refer to it and every one of them is hidden (one nobody uses is open). A
  FeatureOfInterest reaches its Datastreams through ``tp_sta_foi_datastreams``, which every
  observation write keeps (a lookup in 10 million observations per read would not do).

The HTTP adapter builds its own queries ($filter, $expand) and uses these expressions too.
"""

from __future__ import annotations

from collections.abc import Set

import sqlalchemy as sa

from terrapole.insitu.tables import (
    datasets,
    datastreams,
    foi_datastreams,
    historical_location_locations,
    historical_locations,
    thing_locations,
    things,
)

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
    return datastream_id.in_(visible_datastream_ids(hidden))


def visible_datastream_ids(hidden: Set[str]) -> sa.Select[tuple[int]]:
    """The ids of the Datastreams one may see."""
    return sa.select(datastreams.c.id).where(datastreams.c.thing_id.in_(visible_thing_ids(hidden)))


def _used_and_seen(
    ident: sa.ColumnElement[int], uses: sa.Select[tuple[int]], seen: sa.Select[tuple[int]]
) -> sa.ColumnElement[bool]:
    """``ident`` is in none of ``uses`` or in ``seen`` (the visible subset of ``uses``)."""
    return sa.or_(ident.not_in(uses), ident.in_(seen))


def location_visible(
    location_id: sa.ColumnElement[int], hidden: Set[str]
) -> sa.ColumnElement[bool]:
    """Condition on a Location id column: linked to a visible Thing, or to none; a link is a
    Thing's current Location or one of its HistoricalLocations."""
    if not hidden:
        return sa.true()
    h, hl = historical_locations, historical_location_locations
    links = sa.union_all(
        sa.select(thing_locations.c.location_id, thing_locations.c.thing_id),
        sa.select(hl.c.location_id, h.c.thing_id).join(h, h.c.id == hl.c.historical_location_id),
    ).subquery()
    return _used_and_seen(
        location_id,
        sa.select(links.c.location_id),
        sa.select(links.c.location_id).where(links.c.thing_id.in_(visible_thing_ids(hidden))),
    )


def used_by_datastreams_visible(
    ident: sa.ColumnElement[int], reference: str, hidden: Set[str]
) -> sa.ColumnElement[bool]:
    """Condition on a Sensor or ObservedProperty id column: no Datastream refers to it by its
    column ``reference`` (``sensor_id``, ``observed_property_id``) or a visible one does."""
    if not hidden:
        return sa.true()
    column = datastreams.c[reference]
    return _used_and_seen(
        ident,
        sa.select(column),
        sa.select(column).where(datastreams.c.thing_id.in_(visible_thing_ids(hidden))),
    )


def feature_visible(foi_id: sa.ColumnElement[int], hidden: Set[str]) -> sa.ColumnElement[bool]:
    """Condition on a FeatureOfInterest id column: no Observation is about it, or one of a
    visible Datastream is (read from the FeatureOfInterest-Datastream links)."""
    if not hidden:
        return sa.true()
    link = foi_datastreams.c
    return _used_and_seen(
        foi_id,
        sa.select(link.foi_id),
        sa.select(link.foi_id).where(link.datastream_id.in_(visible_datastream_ids(hidden))),
    )
