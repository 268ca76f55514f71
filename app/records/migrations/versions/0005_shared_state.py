"""What every API worker must see alike, moved out of one process's data dir and memory: the
ingest manifest, the ingest runs (the one running is the ingest lock) and anonymous callers'
conversation turns.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_files",
        sa.Column("root", sa.Text, primary_key=True),
        sa.Column("file", sa.Text, primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("chars", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("state IN ('pending', 'done')", name="ingest_file_state"),
    )
    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("paths", sa.JSON, nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("files_total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("files_done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("chunks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("summary", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.Column("usage_error", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("owner", sa.String(300), nullable=False),  # host:pid of the process running it
        sa.Column("created_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
        sa.Column("heartbeat_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("state IN ('running', 'done', 'failed')", name="ingest_run_state"),
    )
    # At most one running ingest per database: the lock every worker and host shares.
    op.create_index("one_running_ingest", "ingest_runs", ["state"], unique=True,
                    sqlite_where=sa.text("state = 'running'"),
                    postgresql_where=sa.text("state = 'running'"))
    op.create_table(
        "anonymous_turns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(100), nullable=False, index=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False, server_default=sa.func.now(),
                  index=True),
    )


def downgrade() -> None:
    raise RuntimeError("refusing to forget what the index holds; restore a backup instead")
