"""Capstone work: per learner and quarter, the deliverables ticked, links to the repository
and report, and the self-review against the rubric.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "capstone_work",
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("quarter", sa.Integer, primary_key=True),
        sa.Column("ticks", sa.JSON, nullable=False),
        sa.Column("repository", sa.String(500), nullable=True),
        sa.Column("report", sa.String(500), nullable=True),
        sa.Column("scores", sa.JSON, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("reviewed_on", sa.Date, nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    raise RuntimeError("refusing to drop learners' capstone work; restore a backup instead")
