"""Alembic migrations of the governance store (applied by `governance db upgrade`)."""
