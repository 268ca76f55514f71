"""Quizzes a learner was given, their answers, and spaced-review cards (FSRS).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quizzes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("week", sa.Integer, nullable=False),
        sa.Column("questions", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("quiz_id", sa.String(32), sa.ForeignKey("quizzes.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("question_id", sa.String(32), nullable=False),
        sa.Column("week", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("correct", sa.Boolean, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("quiz_id", "question_id", name="one_answer_per_quiz_question"),
    )
    op.create_table(
        "review_cards",
        sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("question_id", sa.String(32), primary_key=True),
        sa.Column("question", sa.JSON, nullable=False),
        sa.Column("card", sa.JSON, nullable=False),
        sa.Column("due", sa.DateTime, nullable=False, index=True),
    )


def downgrade() -> None:
    raise RuntimeError("refusing to drop learners' quiz history; restore a backup instead")
