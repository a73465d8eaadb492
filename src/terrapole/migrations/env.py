"""Alembic's environment: runs the revisions on the connection :mod:`terrapole.db` hands over.

No alembic.ini: :func:`terrapole.db.upgrade` builds the configuration and passes, in
``config.attributes``, the connection (already in its transaction, holding the upgrade lock),
the tables' MetaData and the version table's name.
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations with `terrapole db upgrade` (terrapole.db.upgrade)")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Only terrapole's ``tp_`` tables: the catalogue's tables may share the database."""
    return type_ != "table" or (name or "").startswith("tp_")


context.configure(
    connection=connection,
    target_metadata=config.attributes["metadata"],
    version_table=config.attributes["version_table"],
    include_name=include_name,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
