"""Reviews a learner can steer: suspended cards, the review log FSRS is fitted from (filled
from past answers: right = good, wrong = again), and each learner's fitted parameters.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_cards") as batch:
        batch.add_column(sa.Column("suspended", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "review_logs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("question_id", sa.String(32), nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("reviewed_at", sa.DateTime, nullable=False),
        sa.Index("review_logs_by_card", "learner_id", "question_id"),
    )
    op.execute("INSERT INTO review_logs (learner_id, question_id, rating, reviewed_at) "
               "SELECT learner_id, question_id, CASE WHEN correct THEN 3 ELSE 1 END, created_at "
               "FROM attempts ORDER BY id")
    op.create_table(
        "fsrs_fits",
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("fitted_loss", sa.Float, nullable=False),
        sa.Column("default_loss", sa.Float, nullable=False),
        sa.Column("train_reviews", sa.Integer, nullable=False),
        sa.Column("held_out_reviews", sa.Integer, nullable=False),
        sa.Column("in_use", sa.Boolean, nullable=False),
        sa.Column("fitted_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    raise RuntimeError("refusing to drop learners' review history; restore a backup instead")
