"""Tables of the in-situ pillar (SQLAlchemy Core; the same on SQLite and PostgreSQL).

Prefix ``tp_sta_``. Integer ids everywhere (SensorThings clients use integer ``@iot.id``).
Times are BIGINT microseconds since the epoch, UTC (see :mod:`terrapole.insitu.times`).
Geometries are GeoJSON plus bbox columns (min_x, min_y, max_x, max_y) for index-free,
extension-free bbox filters. A change here needs a new revision in
``terrapole/migrations/versions`` (tests/test_db.py fails until the two agree).

Observations carry no foreign key to their Datastream: the store keeps that integrity (a
Datastream's deletion deletes its observations) and the 10-million-row inserts skip one
lookup per row. Their unique key (datastream_id, phenomenon_start, phenomenon_end) makes
imports idempotent; an instant is stored with phenomenon_end = phenomenon_start (NULL would
be distinct in a unique index on both databases). That key's leading columns are the
(datastream_id, phenomenon_start) index every window and decimation reads; PostgreSQL also
gets a BRIN index on phenomenon_start (in the migration).
"""

from __future__ import annotations

import sqlalchemy as sa

from terrapole.db import metadata

# BIGINT on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY" is the rowid
# (autoincrementing); both hold 64-bit values
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Micros = sa.BigInteger
"""A time: microseconds since 1970-01-01T00:00:00Z."""


def _bbox() -> list[sa.Column[float]]:
    return [
        sa.Column(name, sa.Float, nullable=True) for name in ("min_x", "min_y", "max_x", "max_y")
    ]


producers = sa.Table(
    "tp_sta_producers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("identifier", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("properties", sa.JSON, nullable=False),
)

datasets = sa.Table(
    "tp_sta_datasets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("producer_id", sa.Integer, sa.ForeignKey("tp_sta_producers.id"), nullable=False),
    sa.Column("identifier", sa.String(256), nullable=True),
    # the name the access policy knows it by (restrictions/terms), "insitu-<id>" by default
    sa.Column("access_key", sa.String(256), nullable=False, unique=True),
    sa.Column("title", sa.String(1000), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("licence", sa.String(1000), nullable=True),
    sa.Column("doi", sa.String(256), nullable=True),
    sa.Column("keywords", sa.JSON, nullable=False),
    sa.Column("spatial_extent", sa.JSON, nullable=True),
    *_bbox(),
    sa.Column("period_start", Micros, nullable=True),
    sa.Column("period_end", Micros, nullable=True),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Index("ix_tp_sta_datasets_producer", "producer_id", "identifier"),
)

things = sa.Table(
    "tp_sta_things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dataset_id", sa.Integer, sa.ForeignKey("tp_sta_datasets.id"), nullable=True),
    sa.Column("identifier", sa.String(256), nullable=True),
    sa.Column("name", sa.String(1000), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Index("ix_tp_sta_things_dataset", "dataset_id", "identifier"),
)

locations = sa.Table(
    "tp_sta_locations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(1000), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("encoding_type", sa.String(64), nullable=False),
    sa.Column("location", sa.JSON, nullable=False),
    *_bbox(),
    sa.Column("properties", sa.JSON, nullable=False),
    sa.Index("ix_tp_sta_locations_bbox", "min_x", "min_y"),
)

thing_locations = sa.Table(
    "tp_sta_thing_locations",
    metadata,
    sa.Column("thing_id", sa.Integer, sa.ForeignKey("tp_sta_things.id"), primary_key=True),
    sa.Column(
        "location_id", sa.Integer, sa.ForeignKey("tp_sta_locations.id"), primary_key=True,
        index=True,
    ),
)  # fmt: skip

historical_locations = sa.Table(
    "tp_sta_historical_locations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "thing_id", sa.Integer, sa.ForeignKey("tp_sta_things.id"), nullable=False, index=True
    ),
    sa.Column("time", Micros, nullable=False),
)

historical_location_locations = sa.Table(
    "tp_sta_historical_location_locations",
    metadata,
    sa.Column(
        "historical_location_id", sa.Integer, sa.ForeignKey("tp_sta_historical_locations.id"),
        primary_key=True,
    ),
    sa.Column(
        "location_id", sa.Integer, sa.ForeignKey("tp_sta_locations.id"), primary_key=True,
        index=True,
    ),
)  # fmt: skip

sensors = sa.Table(
    "tp_sta_sensors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(1000), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("encoding_type", sa.String(256), nullable=False),
    sa.Column("sensor_metadata", sa.Text, nullable=False),
    sa.Column("properties", sa.JSON, nullable=False),
)

observed_properties = sa.Table(
    "tp_sta_observed_properties",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(1000), nullable=False),
    sa.Column("definition", sa.String(1000), nullable=False, index=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("properties", sa.JSON, nullable=False),
)

observed_property_categories = sa.Table(
    "tp_sta_observed_property_categories",
    metadata,
    # properties["theiaCategories"] of each ObservedProperty, one row per URI, for filters
    sa.Column(
        "observed_property_id", sa.Integer, sa.ForeignKey("tp_sta_observed_properties.id"),
        primary_key=True,
    ),
    sa.Column("category", sa.String(1000), primary_key=True, index=True),
)  # fmt: skip

datastreams = sa.Table(
    "tp_sta_datastreams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "thing_id", sa.Integer, sa.ForeignKey("tp_sta_things.id"), nullable=False, index=True
    ),
    sa.Column(
        "sensor_id", sa.Integer, sa.ForeignKey("tp_sta_sensors.id"), nullable=False, index=True
    ),
    sa.Column(
        "observed_property_id", sa.Integer, sa.ForeignKey("tp_sta_observed_properties.id"),
        nullable=False, index=True,
    ),
    sa.Column("name", sa.String(1000), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("observation_type", sa.String(256), nullable=False),
    sa.Column("unit_name", sa.String(256), nullable=False),
    sa.Column("unit_symbol", sa.String(64), nullable=False),
    sa.Column("unit_definition", sa.String(1000), nullable=False),
    sa.Column("observed_area", sa.JSON, nullable=True),
    *_bbox(),
    sa.Column("phenomenon_start", Micros, nullable=True),
    sa.Column("phenomenon_end", Micros, nullable=True),
    sa.Column("result_start", Micros, nullable=True),
    sa.Column("result_end", Micros, nullable=True),
    sa.Column("properties", sa.JSON, nullable=False),
)  # fmt: skip

features_of_interest = sa.Table(
    "tp_sta_features_of_interest",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(1000), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("encoding_type", sa.String(64), nullable=False),
    sa.Column("feature", sa.JSON, nullable=False),
    *_bbox(),
    sa.Column("properties", sa.JSON, nullable=False),
)

observations = sa.Table(
    "tp_sta_observations",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("datastream_id", sa.Integer, nullable=False),
    sa.Column("phenomenon_start", Micros, nullable=False),
    sa.Column("phenomenon_end", Micros, nullable=False),  # = start for an instant
    sa.Column("result_time", Micros, nullable=True),
    sa.Column("result_number", sa.Float, nullable=True),  # numeric results (aggregated)
    sa.Column("result_json", sa.JSON, nullable=True),  # other results
    sa.Column("result_quality", sa.JSON, nullable=True),
    sa.Column("valid_start", Micros, nullable=True),
    sa.Column("valid_end", Micros, nullable=True),
    sa.Column("parameters", sa.JSON, nullable=True),
    sa.Column("foi_id", sa.Integer, nullable=True),
    # few observations name a FeatureOfInterest: a partial index costs the bulk inserts nothing
    sa.Index(
        "ix_tp_sta_observations_foi_id",
        "foi_id",
        sqlite_where=sa.text("foi_id IS NOT NULL"),
        postgresql_where=sa.text("foi_id IS NOT NULL"),
    ),
    sa.UniqueConstraint(
        "datastream_id", "phenomenon_start", "phenomenon_end", name="uq_tp_sta_observations_time"
    ),
)
# PostgreSQL only: observations arrive roughly in time order, so a block range index is tiny
sa.Index(
    "ix_tp_sta_observations_time_brin", observations.c.phenomenon_start, postgresql_using="brin"
).ddl_if(dialect="postgresql")

foi_datastreams = sa.Table(
    "tp_sta_foi_datastreams",
    metadata,
    # which Datastreams have Observations about each FeatureOfInterest, kept in the transaction
    # of every observation write (a batch adds its distinct pairs): a FeatureOfInterest is
    # hidden with the Datastreams it describes (terrapole.insitu.visibility) without a lookup
    # in the observations. A pair may outlive its observations after an update or deletion
    # only until the write that removed the last one checks it.
    sa.Column("foi_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("datastream_id", sa.Integer, primary_key=True, autoincrement=False, index=True),
)

observation_days = sa.Table(
    "tp_sta_observation_days",
    metadata,
    # one row per Datastream and UTC day holding numeric results: their count and first, last,
    # min and max points, kept in the transaction of every observation write, so a decimated
    # series of years reads days instead of every observation (terrapole.insitu.summaries)
    sa.Column("datastream_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("day", Micros, primary_key=True, autoincrement=False),  # the day's UTC midnight
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("first_time", Micros, nullable=False),
    sa.Column("first_value", sa.Float, nullable=False),
    sa.Column("last_time", Micros, nullable=False),
    sa.Column("last_value", sa.Float, nullable=False),
    sa.Column("min_time", Micros, nullable=False),
    sa.Column("min_value", sa.Float, nullable=False),
    sa.Column("max_time", Micros, nullable=False),
    sa.Column("max_value", sa.Float, nullable=False),
)
