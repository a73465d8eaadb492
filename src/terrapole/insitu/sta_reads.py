"""Reads and deletes the SensorThings adapter needs beyond :class:`InsituStore`'s methods:
a HistoricalLocation by id, and the FeatureOfInterest made from a Location (no HTTP)."""

from __future__ import annotations

import sqlalchemy as sa

from terrapole import db
from terrapole.errors import NotFound
from terrapole.insitu.model import HistoricalLocation
from terrapole.insitu.tables import (
    features_of_interest,
    historical_location_locations,
    historical_locations,
)
from terrapole.insitu.times import from_micros


def get_historical_location(engine: sa.Engine, ident: int) -> HistoricalLocation:
    """A HistoricalLocation with its Location ids (NotFound if none)."""
    h, links = historical_locations, historical_location_locations
    with db.reading(engine) as con:
        row = con.execute(sa.select(h).where(h.c.id == ident)).first()
        if row is None:
            raise NotFound("HistoricalLocation", str(ident))
        ids = con.execute(
            sa.select(links.c.location_id).where(links.c.historical_location_id == ident)
        ).scalars()
        return HistoricalLocation(row.thing_id, from_micros(row.time), tuple(ids), id=row.id)


def delete_historical_location(engine: sa.Engine, ident: int) -> None:
    """Delete a HistoricalLocation (NotFound if none)."""
    h, links = historical_locations, historical_location_locations
    with engine.begin() as con:
        con.execute(links.delete().where(links.c.historical_location_id == ident))
        if con.execute(h.delete().where(h.c.id == ident)).rowcount == 0:
            raise NotFound("HistoricalLocation", str(ident))


def feature_from(engine: sa.Engine, key: str, location_id: int) -> int | None:
    """The FeatureOfInterest whose ``properties[key]`` is ``location_id`` (None if none)."""
    f = features_of_interest
    query = sa.select(f.c.id).where(f.c.properties[key].as_integer() == location_id)
    with db.reading(engine) as con:
        found = con.execute(query.order_by(f.c.id).limit(1)).scalar_one_or_none()
    return None if found is None else int(found)
