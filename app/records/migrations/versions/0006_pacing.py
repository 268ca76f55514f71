"""Pacing: the day a learner's week was set (their schedule runs on from it), and a record of
each re-plan.

A week set before this revision was a fixed number; from now on the calendar moves it on. It is
taken as set on the day of the upgrade, so nobody jumps ahead on upgrading.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("learners", sa.Column("week_set_on", sa.Date, nullable=True))
    op.execute("UPDATE learners SET week_set_on = CURRENT_DATE WHERE current_week IS NOT NULL")
    op.create_table(
        "replans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("made_on", sa.Date, nullable=False),
        sa.Column("from_week", sa.Integer, nullable=False),
        sa.Column("to_week", sa.Integer, nullable=False),
        sa.Column("pace_before", sa.Float, nullable=False),
        sa.Column("pace", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    raise RuntimeError("refusing to forget a learner's re-plans; restore a backup instead")
