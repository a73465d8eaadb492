"""Alembic migrations of the pillars' tables, run by :func:`terrapole.db.upgrade`."""
