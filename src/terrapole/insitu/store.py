"""The in-situ store: every read and write of Producers, Datasets and the SensorThings entities.

No HTTP. Reads take ``hidden`` (the access keys ``AccessService.hidden_for(principal)``
returns) and filter in SQL (see :mod:`terrapole.insitu.visibility`); pass
:data:`~terrapole.insitu.visibility.NOTHING_HIDDEN` for an admin or an import. Writes keep
SensorThings' integrity: a Datastream needs an existing Thing, Sensor and ObservedProperty
(NotFound naming the missing one); deleting a Thing, Sensor or ObservedProperty deletes its
Datastreams, and deleting a Datastream deletes its Observations.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence, Set
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from terrapole import db
from terrapole.errors import AlreadyExists, InvalidInput, NotFound
from terrapole.insitu import observations as obs
from terrapole.insitu import summaries
from terrapole.insitu.model import (
    Dataset,
    Datastream,
    FeatureOfInterest,
    HistoricalLocation,
    Location,
    Observation,
    ObservedProperty,
    Producer,
    Sensor,
    Thing,
)
from terrapole.insitu.records import (
    DATASET,
    DATASTREAM,
    FEATURE_OF_INTEREST,
    LOCATION,
    OBSERVED_PROPERTY,
    PRODUCER,
    SENSOR,
    THING,
    Kind,
)
from terrapole.insitu.tables import (
    datasets,
    datastreams,
    foi_datastreams,
    historical_location_locations,
    historical_locations,
    observations,
    observed_property_categories,
    thing_locations,
    things,
)
from terrapole.insitu.times import TimeInterval, from_micros, to_micros
from terrapole.insitu.visibility import (
    NOTHING_HIDDEN,
    access_key,
    datastream_visible,
    feature_visible,
    location_visible,
    thing_visible,
    used_by_datastreams_visible,
)

E = TypeVar("E")
Hidden = Set[str]


class InsituStore:
    """Producers, datasets, SensorThings entities and observations in the project database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, database_url: str) -> InsituStore:
        """A store on ``database_url``, migrated to the newest revision first."""
        return cls(db.open_engine(database_url))

    def close(self) -> None:
        """Dispose of the connection pool."""
        self.engine.dispose()

    # -- generic helpers ------------------------------------------------------------------
    def _insert(self, con: sa.Connection, kind: Kind, entity: E) -> E:
        new_id = con.execute(kind.table.insert().values(**kind.row(entity))).inserted_primary_key
        assert new_id is not None
        return replace(entity, id=new_id[0])  # type: ignore[type-var]

    def _get(self, con: sa.Connection, kind: Kind, ident: int, *where: Any) -> Any:
        row = con.execute(sa.select(kind.table).where(kind.table.c.id == ident, *where)).first()
        if row is None:
            raise NotFound(kind.name, str(ident))
        return kind.entity(row)

    def _exists(self, con: sa.Connection, kind: Kind, ident: int | None) -> None:
        if ident is None:
            raise InvalidInput(f"{kind.name} id", "required")
        found = con.execute(sa.select(kind.table.c.id).where(kind.table.c.id == ident)).first()
        if found is None:
            raise NotFound(kind.name, str(ident))

    def _update(self, kind: Kind, entity: Any) -> Any:
        if entity.id is None:
            raise InvalidInput(f"{kind.name} id", "an update needs the entity's id")
        with self.engine.begin() as con:
            self._exists(con, kind, entity.id)
            con.execute(
                kind.table.update().where(kind.table.c.id == entity.id).values(**kind.row(entity))
            )
            return self._get(con, kind, entity.id)

    # -- producers and datasets -----------------------------------------------------------
    def create_producer(self, producer: Producer) -> Producer:
        """Store a producer (AlreadyExists for a taken identifier)."""
        with self.engine.begin() as con:
            if self.producer_by_identifier(producer.identifier, con=con) is not None:
                raise AlreadyExists("Producer", producer.identifier)
            return self._insert(con, PRODUCER, producer)

    def producer_by_identifier(
        self, identifier: str, *, con: sa.Connection | None = None
    ) -> Producer | None:
        """The producer named ``identifier`` (e.g. CATC), None if there is none."""
        query = sa.select(PRODUCER.table).where(PRODUCER.table.c.identifier == identifier)
        if con is not None:
            row = con.execute(query).first()
        else:
            with db.reading(self.engine) as reader:
                row = reader.execute(query).first()
        return None if row is None else PRODUCER.entity(row)

    def get_producer(self, producer_id: int) -> Producer:
        """A producer (NotFound if none)."""
        with db.reading(self.engine) as con:
            return self._get(con, PRODUCER, producer_id)  # type: ignore[no-any-return]

    def create_dataset(self, dataset: Dataset) -> Dataset:
        """Store a dataset; its access key is ``insitu-<id>`` unless it names one
        (AlreadyExists for a key taken by another dataset)."""
        with self.engine.begin() as con:
            self._exists(con, PRODUCER, dataset.producer_id)
            # the key is NOT NULL and unique: a placeholder until the id is known
            key = dataset.access_key or f"insitu-new-{uuid.uuid4().hex}"
            taken = con.execute(sa.select(datasets.c.id).where(datasets.c.access_key == key))
            if taken.first() is not None:
                raise AlreadyExists("Dataset access key", key)
            values = {**DATASET.row(dataset), "access_key": key}
            new = con.execute(datasets.insert().values(**values)).inserted_primary_key
            assert new is not None
            if dataset.access_key is None:
                key = access_key(new[0])
                con.execute(datasets.update().where(datasets.c.id == new[0]).values(access_key=key))
            return replace(dataset, id=new[0], access_key=key)

    def get_dataset(self, dataset_id: int, *, hidden: Hidden) -> Dataset:
        """A dataset (NotFound if none, or hidden)."""
        with db.reading(self.engine) as con:
            return self._get(  # type: ignore[no-any-return]
                con, DATASET, dataset_id, datasets.c.access_key.not_in(sorted(hidden))
            )

    def dataset_by_identifier(self, producer_id: int, identifier: str) -> Dataset | None:
        """The producer's dataset ``identifier`` (imports find what they imported before)."""
        query = sa.select(datasets).where(
            datasets.c.producer_id == producer_id, datasets.c.identifier == identifier
        )
        with db.reading(self.engine) as con:
            row = con.execute(query).first()
        return None if row is None else DATASET.entity(row)

    def datasets(self, *, hidden: Hidden, producer_id: int | None = None) -> list[Dataset]:
        """The visible datasets (of one producer), by id."""
        query = sa.select(datasets).where(datasets.c.access_key.not_in(sorted(hidden)))
        if producer_id is not None:
            query = query.where(datasets.c.producer_id == producer_id)
        with db.reading(self.engine) as con:
            return [DATASET.entity(r) for r in con.execute(query.order_by(datasets.c.id))]

    def update_dataset(self, dataset: Dataset) -> Dataset:
        """Replace a dataset's fields (its access key too when given)."""
        stored: Dataset = self._update(DATASET, dataset)
        if dataset.access_key and dataset.access_key != stored.access_key:
            with self.engine.begin() as con:
                con.execute(
                    datasets.update()
                    .where(datasets.c.id == dataset.id)
                    .values(access_key=dataset.access_key)
                )
            stored = replace(stored, access_key=dataset.access_key)
        return stored

    def delete_dataset(self, dataset_id: int) -> None:
        """Delete a dataset with its Things (and so their Datastreams and Observations)."""
        with self.engine.begin() as con:
            self._exists(con, DATASET, dataset_id)
            ids = con.execute(sa.select(things.c.id).where(things.c.dataset_id == dataset_id))
            for (thing_id,) in ids.all():
                self._delete_thing(con, thing_id)
            con.execute(datasets.delete().where(datasets.c.id == dataset_id))

    # -- things, locations, historical locations ------------------------------------------
    def create_thing(self, thing: Thing, *, location_ids: Sequence[int] = ()) -> Thing:
        """Store a Thing, linked to existing Locations (a HistoricalLocation records it)."""
        with self.engine.begin() as con:
            if thing.dataset_id is not None:
                self._exists(con, DATASET, thing.dataset_id)
            stored = self._insert(con, THING, thing)
            assert stored.id is not None
            if location_ids:
                self._link(con, stored.id, location_ids)
            return stored

    def get_thing(self, thing_id: int, *, hidden: Hidden) -> Thing:
        """A Thing (NotFound if none, or hidden)."""
        with db.reading(self.engine) as con:
            return self._get(  # type: ignore[no-any-return]
                con, THING, thing_id, thing_visible(things.c.dataset_id, hidden)
            )

    def things(self, *, hidden: Hidden, dataset_id: int | None = None) -> list[Thing]:
        """The visible Things (of one dataset), by id."""
        query = sa.select(things).where(thing_visible(things.c.dataset_id, hidden))
        if dataset_id is not None:
            query = query.where(things.c.dataset_id == dataset_id)
        with db.reading(self.engine) as con:
            return [THING.entity(r) for r in con.execute(query.order_by(things.c.id))]

    def thing_by_identifier(self, dataset_id: int, identifier: str) -> Thing | None:
        """The dataset's Thing ``identifier`` (a station code), None if there is none."""
        query = sa.select(things).where(
            things.c.dataset_id == dataset_id, things.c.identifier == identifier
        )
        with db.reading(self.engine) as con:
            row = con.execute(query).first()
        return None if row is None else THING.entity(row)

    def update_thing(self, thing: Thing) -> Thing:
        """Replace a Thing's fields."""
        return self._update(THING, thing)  # type: ignore[no-any-return]

    def delete_thing(self, thing_id: int) -> None:
        """Delete a Thing, its Datastreams with their Observations, its HistoricalLocations and
        its links to Locations (the Locations stay)."""
        with self.engine.begin() as con:
            self._exists(con, THING, thing_id)
            self._delete_thing(con, thing_id)

    def _delete_thing(self, con: sa.Connection, thing_id: int) -> None:
        ids = con.execute(sa.select(datastreams.c.id).where(datastreams.c.thing_id == thing_id))
        for (datastream_id,) in ids.all():
            self._delete_datastream(con, datastream_id)
        history = sa.select(historical_locations.c.id).where(
            historical_locations.c.thing_id == thing_id
        )
        con.execute(
            historical_location_locations.delete().where(
                historical_location_locations.c.historical_location_id.in_(history)
            )
        )
        con.execute(
            historical_locations.delete().where(historical_locations.c.thing_id == thing_id)
        )
        con.execute(thing_locations.delete().where(thing_locations.c.thing_id == thing_id))
        con.execute(things.delete().where(things.c.id == thing_id))

    def create_location(self, location: Location, *, thing_ids: Sequence[int] = ()) -> Location:
        """Store a Location, linked to existing Things (each link recorded as history)."""
        with self.engine.begin() as con:
            stored = self._insert(con, LOCATION, location)
            for thing_id in thing_ids:
                self._link(con, thing_id, [stored.id])  # type: ignore[list-item]
            return stored

    def link_location(self, thing_id: int, location_ids: Sequence[int]) -> HistoricalLocation:
        """Make ``location_ids`` the Thing's Locations now; returns the HistoricalLocation."""
        with self.engine.begin() as con:
            return self._link(con, thing_id, location_ids)

    def _link(
        self, con: sa.Connection, thing_id: int, location_ids: Sequence[int]
    ) -> HistoricalLocation:
        self._exists(con, THING, thing_id)
        for location_id in location_ids:
            self._exists(con, LOCATION, location_id)
        con.execute(thing_locations.delete().where(thing_locations.c.thing_id == thing_id))
        con.execute(
            thing_locations.insert(),
            [{"thing_id": thing_id, "location_id": i} for i in dict.fromkeys(location_ids)],
        )
        now = datetime.now().astimezone()
        return self._history(con, HistoricalLocation(thing_id, now, tuple(location_ids)))

    def _history(self, con: sa.Connection, entry: HistoricalLocation) -> HistoricalLocation:
        new = con.execute(
            historical_locations.insert().values(
                thing_id=entry.thing_id, time=to_micros(entry.time)
            )
        ).inserted_primary_key
        assert new is not None
        if entry.location_ids:
            con.execute(
                historical_location_locations.insert(),
                [
                    {"historical_location_id": new[0], "location_id": i}
                    for i in dict.fromkeys(entry.location_ids)
                ],
            )
        return replace(entry, id=new[0])

    def get_location(self, location_id: int, *, hidden: Hidden) -> Location:
        """A Location (NotFound if none, or only linked to hidden Things)."""
        with db.reading(self.engine) as con:
            return self._get(  # type: ignore[no-any-return]
                con, LOCATION, location_id, location_visible(LOCATION.table.c.id, hidden)
            )

    def locations_of(self, thing_id: int, *, hidden: Hidden) -> list[Location]:
        """A visible Thing's current Locations."""
        query = (
            sa.select(LOCATION.table)
            .join(thing_locations, thing_locations.c.location_id == LOCATION.table.c.id)
            .join(things, things.c.id == thing_locations.c.thing_id)
            .where(things.c.id == thing_id, thing_visible(things.c.dataset_id, hidden))
            .order_by(LOCATION.table.c.id)
        )
        with db.reading(self.engine) as con:
            return [LOCATION.entity(r) for r in con.execute(query)]

    def update_location(self, location: Location) -> Location:
        """Replace a Location's fields."""
        return self._update(LOCATION, location)  # type: ignore[no-any-return]

    def delete_location(self, location_id: int) -> None:
        """Delete a Location and its links (Things and their history stay)."""
        with self.engine.begin() as con:
            self._exists(con, LOCATION, location_id)
            con.execute(
                thing_locations.delete().where(thing_locations.c.location_id == location_id)
            )
            con.execute(
                historical_location_locations.delete().where(
                    historical_location_locations.c.location_id == location_id
                )
            )
            con.execute(LOCATION.table.delete().where(LOCATION.table.c.id == location_id))

    def create_historical_location(self, entry: HistoricalLocation) -> HistoricalLocation:
        """Record a past location of a Thing (its Thing and Locations must exist)."""
        with self.engine.begin() as con:
            self._exists(con, THING, entry.thing_id)
            for location_id in entry.location_ids:
                self._exists(con, LOCATION, location_id)
            return self._history(con, entry)

    def historical_locations_of(self, thing_id: int, *, hidden: Hidden) -> list[HistoricalLocation]:
        """A visible Thing's location history, newest first."""
        h, hl = historical_locations, historical_location_locations
        query = (
            sa.select(h.c.id, h.c.thing_id, h.c.time, hl.c.location_id)
            .join(things, things.c.id == h.c.thing_id)
            .outerjoin(hl, hl.c.historical_location_id == h.c.id)
            .where(h.c.thing_id == thing_id, thing_visible(things.c.dataset_id, hidden))
            .order_by(h.c.time.desc(), h.c.id.desc(), hl.c.location_id)
        )
        found: dict[int, HistoricalLocation] = {}
        with db.reading(self.engine) as con:
            for r in con.execute(query):
                entry = found.get(r.id) or HistoricalLocation(
                    r.thing_id, from_micros(r.time), id=r.id
                )
                if r.location_id is not None:
                    entry = replace(entry, location_ids=(*entry.location_ids, r.location_id))
                found[r.id] = entry
        return list(found.values())

    # -- sensors, observed properties, features of interest -------------------------------
    def create_sensor(self, sensor: Sensor) -> Sensor:
        """Store a Sensor."""
        with self.engine.begin() as con:
            return self._insert(con, SENSOR, sensor)

    def get_sensor(self, sensor_id: int, *, hidden: Hidden = NOTHING_HIDDEN) -> Sensor:
        """A Sensor (NotFound if none, or only hidden Datastreams use it)."""
        visible = used_by_datastreams_visible(SENSOR.table.c.id, "sensor_id", hidden)
        with db.reading(self.engine) as con:
            return self._get(con, SENSOR, sensor_id, visible)  # type: ignore[no-any-return]

    def update_sensor(self, sensor: Sensor) -> Sensor:
        """Replace a Sensor's fields."""
        return self._update(SENSOR, sensor)  # type: ignore[no-any-return]

    def delete_sensor(self, sensor_id: int) -> None:
        """Delete a Sensor and the Datastreams it feeds (with their Observations)."""
        self._delete_with_datastreams(SENSOR, datastreams.c.sensor_id, sensor_id)

    def create_observed_property(self, prop: ObservedProperty) -> ObservedProperty:
        """Store an ObservedProperty (its Theia categories indexed for filters)."""
        with self.engine.begin() as con:
            stored = self._insert(con, OBSERVED_PROPERTY, prop)
            self._categorise(con, stored)
            return stored

    def _categorise(self, con: sa.Connection, prop: ObservedProperty) -> None:
        c = observed_property_categories.c
        con.execute(observed_property_categories.delete().where(c.observed_property_id == prop.id))
        if prop.categories:
            con.execute(
                observed_property_categories.insert(),
                [{"observed_property_id": prop.id, "category": u} for u in set(prop.categories)],
            )

    def get_observed_property(
        self, prop_id: int, *, hidden: Hidden = NOTHING_HIDDEN
    ) -> ObservedProperty:
        """An ObservedProperty (NotFound if none, or only hidden Datastreams use it)."""
        t = OBSERVED_PROPERTY.table
        visible = used_by_datastreams_visible(t.c.id, "observed_property_id", hidden)
        with db.reading(self.engine) as con:
            return self._get(con, OBSERVED_PROPERTY, prop_id, visible)  # type: ignore[no-any-return]

    def observed_property_by_definition(self, definition: str) -> ObservedProperty | None:
        """The first ObservedProperty with this thesaurus URI (imports reuse it)."""
        t = OBSERVED_PROPERTY.table
        query = sa.select(t).where(t.c.definition == definition).order_by(t.c.id).limit(1)
        with db.reading(self.engine) as con:
            row = con.execute(query).first()
        return None if row is None else OBSERVED_PROPERTY.entity(row)

    def update_observed_property(self, prop: ObservedProperty) -> ObservedProperty:
        """Replace an ObservedProperty's fields (and its categories)."""
        stored: ObservedProperty = self._update(OBSERVED_PROPERTY, prop)
        with self.engine.begin() as con:
            self._categorise(con, stored)
        return stored

    def delete_observed_property(self, prop_id: int) -> None:
        """Delete an ObservedProperty and its Datastreams (with their Observations)."""
        c = observed_property_categories.c
        with self.engine.begin() as con:
            con.execute(
                observed_property_categories.delete().where(c.observed_property_id == prop_id)
            )
        self._delete_with_datastreams(
            OBSERVED_PROPERTY, datastreams.c.observed_property_id, prop_id
        )

    def create_feature_of_interest(self, feature: FeatureOfInterest) -> FeatureOfInterest:
        """Store a FeatureOfInterest."""
        with self.engine.begin() as con:
            return self._insert(con, FEATURE_OF_INTEREST, feature)

    def get_feature_of_interest(
        self, foi_id: int, *, hidden: Hidden = NOTHING_HIDDEN
    ) -> FeatureOfInterest:
        """A FeatureOfInterest (NotFound if none, or only hidden Datastreams observe it)."""
        visible = feature_visible(FEATURE_OF_INTEREST.table.c.id, hidden)
        with db.reading(self.engine) as con:
            return self._get(con, FEATURE_OF_INTEREST, foi_id, visible)  # type: ignore[no-any-return]

    def update_feature_of_interest(self, feature: FeatureOfInterest) -> FeatureOfInterest:
        """Replace a FeatureOfInterest's fields."""
        return self._update(FEATURE_OF_INTEREST, feature)  # type: ignore[no-any-return]

    def delete_feature_of_interest(self, foi_id: int) -> None:
        """Delete a FeatureOfInterest and the Observations about it."""
        with self.engine.begin() as con:
            self._exists(con, FEATURE_OF_INTEREST, foi_id)
            o = observations.c
            gone = con.execute(
                sa.select(o.datastream_id, o.phenomenon_start).where(o.foi_id == foi_id)
            ).all()
            con.execute(observations.delete().where(o.foi_id == foi_id))
            con.execute(foi_datastreams.delete().where(foi_datastreams.c.foi_id == foi_id))
            for datastream_id, starts in _by_datastream(gone).items():
                summaries.refresh(con, datastream_id, starts)
            table = FEATURE_OF_INTEREST.table
            con.execute(table.delete().where(table.c.id == foi_id))

    # -- datastreams ----------------------------------------------------------------------
    def create_datastream(self, datastream: Datastream) -> Datastream:
        """Store a Datastream (NotFound naming a missing Thing, Sensor or ObservedProperty)."""
        with self.engine.begin() as con:
            self._exists(con, THING, datastream.thing_id)
            self._exists(con, SENSOR, datastream.sensor_id)
            self._exists(con, OBSERVED_PROPERTY, datastream.observed_property_id)
            return self._insert(con, DATASTREAM, datastream)

    def get_datastream(self, datastream_id: int, *, hidden: Hidden) -> Datastream:
        """A Datastream (NotFound if none, or its Thing is hidden)."""
        with db.reading(self.engine) as con:
            return self._get(  # type: ignore[no-any-return]
                con, DATASTREAM, datastream_id, datastream_visible(datastreams.c.id, hidden)
            )

    def datastreams_of(self, thing_id: int, *, hidden: Hidden) -> list[Datastream]:
        """A visible Thing's Datastreams, by id."""
        query = (
            sa.select(datastreams)
            .join(things, things.c.id == datastreams.c.thing_id)
            .where(datastreams.c.thing_id == thing_id, thing_visible(things.c.dataset_id, hidden))
            .order_by(datastreams.c.id)
        )
        with db.reading(self.engine) as con:
            return [DATASTREAM.entity(r) for r in con.execute(query)]

    def update_datastream(self, datastream: Datastream) -> Datastream:
        """Replace a Datastream's fields (its references must exist; extents are kept)."""
        with self.engine.begin() as con:
            self._exists(con, THING, datastream.thing_id)
            self._exists(con, SENSOR, datastream.sensor_id)
            self._exists(con, OBSERVED_PROPERTY, datastream.observed_property_id)
        return self._update(DATASTREAM, datastream)  # type: ignore[no-any-return]

    def delete_datastream(self, datastream_id: int) -> None:
        """Delete a Datastream and its Observations."""
        with self.engine.begin() as con:
            self._exists(con, DATASTREAM, datastream_id)
            self._delete_datastream(con, datastream_id)

    def _delete_datastream(self, con: sa.Connection, datastream_id: int) -> None:
        con.execute(observations.delete().where(observations.c.datastream_id == datastream_id))
        con.execute(
            foi_datastreams.delete().where(foi_datastreams.c.datastream_id == datastream_id)
        )
        summaries.forget(con, datastream_id)
        con.execute(datastreams.delete().where(datastreams.c.id == datastream_id))

    def _delete_with_datastreams(self, kind: Kind, column: sa.Column[int], ident: int) -> None:
        with self.engine.begin() as con:
            self._exists(con, kind, ident)
            ids = con.execute(sa.select(datastreams.c.id).where(column == ident)).all()
            for (datastream_id,) in ids:
                self._delete_datastream(con, datastream_id)
            con.execute(kind.table.delete().where(kind.table.c.id == ident))

    def refresh_extents(self, datastream_id: int) -> Datastream:
        """Recompute a Datastream's time extents from its Observations (after deletions)."""
        o = observations.c
        with self.engine.begin() as con:
            self._exists(con, DATASTREAM, datastream_id)
            lo, hi, rlo, rhi = con.execute(
                sa.select(
                    sa.func.min(o.phenomenon_start),
                    sa.func.max(o.phenomenon_end),
                    sa.func.min(o.result_time),
                    sa.func.max(o.result_time),
                ).where(o.datastream_id == datastream_id)
            ).one()
            con.execute(
                datastreams.update()
                .where(datastreams.c.id == datastream_id)
                .values(phenomenon_start=lo, phenomenon_end=hi, result_start=rlo, result_end=rhi)
            )
            return self._get(con, DATASTREAM, datastream_id)  # type: ignore[no-any-return]

    # -- observations ---------------------------------------------------------------------
    def add_observations(
        self, datastream_id: int, rows: Iterable[Sequence[Any]], *, batch: int = 50_000
    ) -> obs.Added:
        """Add ``rows`` (tuples ``(phenomenon_time, result[, result_time, result_quality,
        parameters, foi_id])``, see :class:`~terrapole.insitu.observations.Row`) to a
        Datastream, skipping those whose phenomenon time is already there; one transaction
        per ``batch`` rows; the Datastream's time extents follow.

        >>> store.add_observations(7, [(datetime(2000, 1, 1, tzinfo=UTC), 7.2)])  # doctest: +SKIP
        Added(inserted=1, duplicates=0)
        """
        with db.reading(self.engine) as con:
            self._exists(con, DATASTREAM, datastream_id)
        return obs.add(self.engine, datastream_id, rows, batch=batch)

    def add_observation_columns(
        self,
        datastream_id: int,
        columns: obs.Columns,
        *,
        foi_id: int | None = None,
        batch: int = 50_000,
    ) -> obs.Added:
        """:meth:`add_observations` for observations held as columns (a table import's fast
        path, see :class:`~terrapole.insitu.observations.Columns`)."""
        with db.reading(self.engine) as con:
            self._exists(con, DATASTREAM, datastream_id)
        return obs.add_columns(self.engine, datastream_id, columns, foi_id=foi_id, batch=batch)

    def create_observation(self, observation: Observation) -> Observation:
        """Store one Observation (AlreadyExists if its Datastream has one at that time)."""
        with db.reading(self.engine) as con:
            self._exists(con, DATASTREAM, observation.datastream_id)
            if observation.foi_id is not None:
                self._exists(con, FEATURE_OF_INTEREST, observation.foi_id)
        row = self._observation_row(observation)
        with self.engine.begin() as con:
            try:
                new = con.execute(observations.insert().values(**row)).inserted_primary_key
            except sa.exc.IntegrityError as exc:
                raise AlreadyExists(
                    "Observation", f"Datastream {observation.datastream_id} at that phenomenonTime"
                ) from exc
            obs.link_features(con, observation.datastream_id, [observation.foi_id])
            obs._widen(con, observation.datastream_id, self._extents(row))
            summaries.refresh(con, observation.datastream_id, [row["phenomenon_start"]])
        assert new is not None
        return replace(observation, id=new[0])

    @staticmethod
    def _observation_row(o: Observation) -> dict[str, Any]:
        when = o.phenomenon_time
        start, end = (when.start, when.end) if isinstance(when, TimeInterval) else (when, when)
        numeric = isinstance(o.result, int | float) and not isinstance(o.result, bool)
        return {
            "datastream_id": o.datastream_id,
            "phenomenon_start": to_micros(start),
            "phenomenon_end": to_micros(end),
            "result_time": None if o.result_time is None else to_micros(o.result_time),
            "result_number": float(o.result) if numeric else None,
            "result_json": None if numeric else o.result,
            "result_quality": o.result_quality,
            "valid_start": None if o.valid_time is None else to_micros(o.valid_time.start),
            "valid_end": None if o.valid_time is None else to_micros(o.valid_time.end),
            "parameters": o.parameters or None,
            "foi_id": o.foi_id,
        }

    @staticmethod
    def _extents(row: dict[str, Any]) -> tuple[int, int, int | None, int | None]:
        return (
            row["phenomenon_start"],
            row["phenomenon_end"],
            row["result_time"],
            row["result_time"],
        )

    def get_observation(self, observation_id: int, *, hidden: Hidden) -> Observation:
        """An Observation (NotFound if none, or its Thing is hidden)."""
        query = sa.select(observations).where(
            observations.c.id == observation_id,
            datastream_visible(observations.c.datastream_id, hidden),
        )
        with db.reading(self.engine) as con:
            row = con.execute(query).first()
        if row is None:
            raise NotFound("Observation", str(observation_id))
        return obs.observation_of(row)

    def update_observation(self, observation: Observation) -> Observation:
        """Replace an Observation's fields (the Datastream's extents widen, never shrink:
        :meth:`refresh_extents` recomputes them)."""
        if observation.id is None:
            raise InvalidInput("Observation id", "an update needs the entity's id")
        row = self._observation_row(observation)
        with self.engine.begin() as con:
            o = observations.c
            found = con.execute(
                sa.select(o.datastream_id, o.phenomenon_start, o.foi_id).where(
                    o.id == observation.id
                )
            ).first()
            if found is None:
                raise NotFound("Observation", str(observation.id))
            self._exists(con, DATASTREAM, observation.datastream_id)
            try:
                con.execute(
                    observations.update().where(observations.c.id == observation.id).values(**row)
                )
            except sa.exc.IntegrityError as exc:
                raise AlreadyExists(
                    "Observation", f"Datastream {observation.datastream_id} at that phenomenonTime"
                ) from exc
            obs.link_features(con, observation.datastream_id, [observation.foi_id])
            obs.unlink_unused(con, [(found.foi_id, found.datastream_id)])
            obs._widen(con, observation.datastream_id, self._extents(row))
            summaries.refresh(con, found.datastream_id, [found.phenomenon_start])
            summaries.refresh(con, observation.datastream_id, [row["phenomenon_start"]])
        return observation

    def delete_observation(self, observation_id: int) -> None:
        """Delete an Observation."""
        o = observations.c
        with self.engine.begin() as con:
            found = con.execute(
                sa.select(o.datastream_id, o.phenomenon_start, o.foi_id).where(
                    o.id == observation_id
                )
            ).first()
            if found is None:
                raise NotFound("Observation", str(observation_id))
            con.execute(observations.delete().where(o.id == observation_id))
            obs.unlink_unused(con, [(found.foi_id, found.datastream_id)])
            summaries.refresh(con, found.datastream_id, [found.phenomenon_start])

    def window(
        self,
        datastream_id: int,
        start: datetime,
        end: datetime,
        *,
        limit: int,
        after: obs.Cursor | None = None,
        hidden: Hidden,
    ) -> obs.Page:
        """One page of a visible Datastream's Observations with ``start <= phenomenon start <
        end`` in time order (keyset paging: pass the page's ``next`` as ``after``)."""
        with db.reading(self.engine) as con:
            self._get(con, DATASTREAM, datastream_id, datastream_visible(datastreams.c.id, hidden))
            return obs.window(con, datastream_id, start, end, limit=limit, after=after)

    def decimated(
        self, datastream_id: int, start: datetime, end: datetime, buckets: int, *, hidden: Hidden
    ) -> list[obs.Bucket]:
        """A visible Datastream's numeric results in ``buckets`` time buckets (first, last,
        min and max of each, computed in SQL): what a plot of any length needs."""
        with db.reading(self.engine) as con:
            self._get(con, DATASTREAM, datastream_id, datastream_visible(datastreams.c.id, hidden))
            return obs.decimated(con, datastream_id, start, end, buckets)


def _by_datastream(rows: Iterable[Any]) -> dict[int, list[int]]:
    """(datastream id, phenomenon start) rows grouped: each Datastream's starts."""
    out: dict[int, list[int]] = {}
    for datastream_id, start in rows:
        out.setdefault(datastream_id, []).append(start)
    return out
