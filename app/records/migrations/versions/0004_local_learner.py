"""The command line's learner on this machine: a flag, at most one learner carrying it.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN with a default keeps every row (no table copy, even on SQLite).
    op.add_column("learners", sa.Column("local", sa.Boolean, nullable=False,
                                        server_default=sa.false()))
    # A partial unique index: two CLI processes starting at once still make one local learner.
    op.create_index("one_local_learner", "learners", ["local"], unique=True,
                    sqlite_where=sa.text("local"), postgresql_where=sa.text("local"))


def downgrade() -> None:
    raise RuntimeError("refusing to forget which learner is the command line's; restore a backup")
