"""The study group's FSRS parameters fitted to concept logs, for the mastery estimate: every
fit kept, the newest counting, and in use only when it beat the running accuracy on held-out
answers.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mastery_fits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("fsrs_loss", sa.Float, nullable=False),
        sa.Column("running_loss", sa.Float, nullable=False),
        sa.Column("train_reviews", sa.Integer, nullable=False),
        sa.Column("held_out_answers", sa.Integer, nullable=False),
        sa.Column("learners", sa.Integer, nullable=False),
        sa.Column("in_use", sa.Boolean, nullable=False),
        sa.Column("fitted_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mastery_fits")
