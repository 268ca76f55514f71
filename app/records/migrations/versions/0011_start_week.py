"""The week a learner joined in, kept apart from the week their schedule runs from: a re-plan
or a set week moved `current_week`, and progress guessed the start from the weeks a learner had
been in, so a milestone quiz on an earlier week moved it. Learners made before this keep the
week their schedule runs from (1 when none), the closest record there is.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("learners") as batch:
        batch.add_column(sa.Column("start_week", sa.Integer, nullable=True))
    op.execute("UPDATE learners SET start_week = current_week WHERE current_week IS NOT NULL")
    op.execute("UPDATE learners SET start_week = 1 WHERE current_week IS NULL AND NOT local")


def downgrade() -> None:
    with op.batch_alter_table("learners") as batch:
        batch.drop_column("start_week")
