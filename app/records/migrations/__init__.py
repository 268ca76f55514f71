"""Alembic migrations for the learner database: append-only, never destroying a learner's data."""
