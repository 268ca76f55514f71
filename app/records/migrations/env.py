"""Alembic environment: run by `app.records.base.migrate`, on the connection it hands over."""

from alembic import context
from sqlalchemy import engine_from_config
from sqlalchemy import pool

config = context.config


def run(connection) -> None:  # noqa: ANN001 - alembic's own connection type
    # render_as_batch lets ALTERs work on SQLite (copy-and-move), and on PostgreSQL unchanged.
    context.configure(connection=connection, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:  # `alembic -x ...` from a shell, with sqlalchemy.url set
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        run(conn)
