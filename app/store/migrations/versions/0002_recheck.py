"""Re-checks of unknown outcomes: when the next check is due and how many were made.

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
    op.add_column("attempt", sa.Column("recheck_at", sa.DateTime(), nullable=True))
    op.add_column("attempt", sa.Column("checks", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_attempt_recheck", "attempt", ["recheck_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_attempt_recheck", table_name="attempt")
    with op.batch_alter_table("attempt") as batch:
        batch.drop_column("checks")
        batch.drop_column("recheck_at")
