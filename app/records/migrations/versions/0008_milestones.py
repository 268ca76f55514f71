"""Monthly milestones: per learner and month, the milestone quiz and the checklist's ticks.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "milestones",
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("month", sa.Integer, primary_key=True),
        sa.Column("quiz_id", sa.String(32), sa.ForeignKey("quizzes.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("ticks", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    raise RuntimeError("refusing to drop learners' milestones; restore a backup instead")
