"""animators' corrections of classifications, per territory (who, when)

Revision ID: 0003_corrections
Revises: 0003_hardening
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_corrections"
down_revision = "0003_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("previous_code", sa.String(length=128), nullable=True),
        sa.Column("flow_uid", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["territory_id"], ["territories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("territory_id", "key_hash", name="uq_correction_key"),
    )
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.create_index("ix_corrections_territory_id", ["territory_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.drop_index("ix_corrections_territory_id")
    op.drop_table("corrections")
