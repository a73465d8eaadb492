"""In-situ pillar: SensorThings entities (Things, Locations, HistoricalLocations, Sensors,
ObservedProperties, Datastreams, FeaturesOfInterest, Observations) and the pivot model's
producers and datasets (tables ``tp_sta_*``); a BRIN index on observation times on PostgreSQL;
the daily summaries of numeric observations that decimation reads (``tp_sta_observation_days``);
which Datastreams observe each FeatureOfInterest (``tp_sta_foi_datastreams``, for visibility).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = (
    "tp_sta_producers", "tp_sta_datasets", "tp_sta_things", "tp_sta_locations",
    "tp_sta_thing_locations", "tp_sta_historical_locations",
    "tp_sta_historical_location_locations", "tp_sta_sensors", "tp_sta_observed_properties",
    "tp_sta_observed_property_categories", "tp_sta_datastreams", "tp_sta_features_of_interest",
    "tp_sta_observations", "tp_sta_foi_datastreams", "tp_sta_observation_days",
)  # fmt: skip
"""In creation order (a table after those it refers to)."""


def upgrade() -> None:
    """Create the in-situ tables and their indexes."""
    op.create_table(
        "tp_sta_features_of_interest",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=64), nullable=False),
        sa.Column("feature", sa.JSON(), nullable=False),
        sa.Column("min_x", sa.Float(), nullable=True),
        sa.Column("min_y", sa.Float(), nullable=True),
        sa.Column("max_x", sa.Float(), nullable=True),
        sa.Column("max_y", sa.Float(), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "tp_sta_locations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=64), nullable=False),
        sa.Column("location", sa.JSON(), nullable=False),
        sa.Column("min_x", sa.Float(), nullable=True),
        sa.Column("min_y", sa.Float(), nullable=True),
        sa.Column("max_x", sa.Float(), nullable=True),
        sa.Column("max_y", sa.Float(), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_tp_sta_locations_bbox", "tp_sta_locations", ["min_x", "min_y"], unique=False
    )
    op.create_table(
        "tp_sta_observations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("datastream_id", sa.Integer(), nullable=False),
        sa.Column("phenomenon_start", sa.BigInteger(), nullable=False),
        sa.Column("phenomenon_end", sa.BigInteger(), nullable=False),
        sa.Column("result_time", sa.BigInteger(), nullable=True),
        sa.Column("result_number", sa.Float(), nullable=True),
        sa.Column("result_json", sa.JSON(), nullable=True),
        sa.Column("result_quality", sa.JSON(), nullable=True),
        sa.Column("valid_start", sa.BigInteger(), nullable=True),
        sa.Column("valid_end", sa.BigInteger(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("foi_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "datastream_id",
            "phenomenon_start",
            "phenomenon_end",
            name="uq_tp_sta_observations_time",
        ),
    )
    op.create_index(
        "ix_tp_sta_observations_foi_id",
        "tp_sta_observations",
        ["foi_id"],
        unique=False,
        sqlite_where=sa.text("foi_id IS NOT NULL"),
        postgresql_where=sa.text("foi_id IS NOT NULL"),
    )
    op.create_table(
        "tp_sta_foi_datastreams",
        sa.Column("foi_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("datastream_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("foi_id", "datastream_id"),
    )
    op.create_index(
        op.f("ix_tp_sta_foi_datastreams_datastream_id"),
        "tp_sta_foi_datastreams",
        ["datastream_id"],
        unique=False,
    )
    op.create_table(
        "tp_sta_observation_days",
        sa.Column("datastream_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_time", sa.BigInteger(), nullable=False),
        sa.Column("first_value", sa.Float(), nullable=False),
        sa.Column("last_time", sa.BigInteger(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=False),
        sa.Column("min_time", sa.BigInteger(), nullable=False),
        sa.Column("min_value", sa.Float(), nullable=False),
        sa.Column("max_time", sa.BigInteger(), nullable=False),
        sa.Column("max_value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("datastream_id", "day"),
    )
    op.create_table(
        "tp_sta_observed_properties",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("definition", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_tp_sta_observed_properties_definition"),
        "tp_sta_observed_properties",
        ["definition"],
        unique=False,
    )
    op.create_table(
        "tp_sta_producers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("identifier", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("identifier"),
    )
    op.create_table(
        "tp_sta_sensors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=256), nullable=False),
        sa.Column("sensor_metadata", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "tp_sta_datasets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=256), nullable=True),
        sa.Column("access_key", sa.String(length=256), nullable=False),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("licence", sa.String(length=1000), nullable=True),
        sa.Column("doi", sa.String(length=256), nullable=True),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("spatial_extent", sa.JSON(), nullable=True),
        sa.Column("min_x", sa.Float(), nullable=True),
        sa.Column("min_y", sa.Float(), nullable=True),
        sa.Column("max_x", sa.Float(), nullable=True),
        sa.Column("max_y", sa.Float(), nullable=True),
        sa.Column("period_start", sa.BigInteger(), nullable=True),
        sa.Column("period_end", sa.BigInteger(), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["producer_id"],
            ["tp_sta_producers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("access_key"),
    )
    op.create_index(
        "ix_tp_sta_datasets_producer",
        "tp_sta_datasets",
        ["producer_id", "identifier"],
        unique=False,
    )
    op.create_table(
        "tp_sta_observed_property_categories",
        sa.Column("observed_property_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(
            ["observed_property_id"],
            ["tp_sta_observed_properties.id"],
        ),
        sa.PrimaryKeyConstraint("observed_property_id", "category"),
    )
    op.create_index(
        op.f("ix_tp_sta_observed_property_categories_category"),
        "tp_sta_observed_property_categories",
        ["category"],
        unique=False,
    )
    op.create_table(
        "tp_sta_things",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("identifier", sa.String(length=256), nullable=True),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["tp_sta_datasets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_tp_sta_things_dataset", "tp_sta_things", ["dataset_id", "identifier"], unique=False
    )
    op.create_table(
        "tp_sta_datastreams",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("observed_property_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("observation_type", sa.String(length=256), nullable=False),
        sa.Column("unit_name", sa.String(length=256), nullable=False),
        sa.Column("unit_symbol", sa.String(length=64), nullable=False),
        sa.Column("unit_definition", sa.String(length=1000), nullable=False),
        sa.Column("observed_area", sa.JSON(), nullable=True),
        sa.Column("min_x", sa.Float(), nullable=True),
        sa.Column("min_y", sa.Float(), nullable=True),
        sa.Column("max_x", sa.Float(), nullable=True),
        sa.Column("max_y", sa.Float(), nullable=True),
        sa.Column("phenomenon_start", sa.BigInteger(), nullable=True),
        sa.Column("phenomenon_end", sa.BigInteger(), nullable=True),
        sa.Column("result_start", sa.BigInteger(), nullable=True),
        sa.Column("result_end", sa.BigInteger(), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["observed_property_id"],
            ["tp_sta_observed_properties.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"],
            ["tp_sta_sensors.id"],
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["tp_sta_things.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_tp_sta_datastreams_observed_property_id"),
        "tp_sta_datastreams",
        ["observed_property_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_tp_sta_datastreams_sensor_id"), "tp_sta_datastreams", ["sensor_id"], unique=False
    )
    op.create_index(
        op.f("ix_tp_sta_datastreams_thing_id"), "tp_sta_datastreams", ["thing_id"], unique=False
    )
    op.create_table(
        "tp_sta_historical_locations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["tp_sta_things.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_tp_sta_historical_locations_thing_id"),
        "tp_sta_historical_locations",
        ["thing_id"],
        unique=False,
    )
    op.create_table(
        "tp_sta_thing_locations",
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["tp_sta_locations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["tp_sta_things.id"],
        ),
        sa.PrimaryKeyConstraint("thing_id", "location_id"),
    )
    op.create_index(
        op.f("ix_tp_sta_thing_locations_location_id"),
        "tp_sta_thing_locations",
        ["location_id"],
        unique=False,
    )
    op.create_table(
        "tp_sta_historical_location_locations",
        sa.Column("historical_location_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["historical_location_id"],
            ["tp_sta_historical_locations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["tp_sta_locations.id"],
        ),
        sa.PrimaryKeyConstraint("historical_location_id", "location_id"),
    )
    op.create_index(
        op.f("ix_tp_sta_historical_location_locations_location_id"),
        "tp_sta_historical_location_locations",
        ["location_id"],
        unique=False,
    )
    if op.get_context().dialect.name == "postgresql":
        # observations arrive roughly in time order: a block range index is tiny and lets a
        # window over all datastreams skip the blocks outside it
        op.execute(
            "CREATE INDEX ix_tp_sta_observations_time_brin "
            "ON tp_sta_observations USING brin (phenomenon_start)"
        )


def downgrade() -> None:
    """Drop the in-situ tables (their indexes go with them)."""
    for name in reversed(TABLES):
        op.drop_table(name)
