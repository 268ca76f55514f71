"""Where each review was made: here ("tutor") or in the learner's Anki ("anki", brought back
by an import). A review made in Anki is replayed counting days as Anki counts them.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_logs") as table:
        table.add_column(
            sa.Column("origin", sa.String(8), nullable=False, server_default="tutor")
        )


def downgrade() -> None:
    with op.batch_alter_table("review_logs") as table:
        table.drop_column("origin")
