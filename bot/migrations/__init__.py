"""Alembic migrations of the Baraza schema, shipped inside the package."""
