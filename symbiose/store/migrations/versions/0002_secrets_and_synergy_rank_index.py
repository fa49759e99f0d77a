"""instance secrets (HMAC key of the aliases of confidential companies);
index of a run's synergies by rank (the API's paginated listing)

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("synergies", schema=None) as batch_op:
        batch_op.create_index("ix_synergies_run_rank", ["run_id", "rank", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("synergies", schema=None) as batch_op:
        batch_op.drop_index("ix_synergies_run_rank")
    op.drop_table("instance_secrets")
