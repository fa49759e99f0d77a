"""regions: sets of territories matched together; region runs; the territory runs
they write; API keys of the ``region`` role

Revision ID: 0003_regions
Revises: 0003_corrections
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_regions"
down_revision = "0003_corrections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "region_territories",
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["territory_id"], ["territories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("region_id", "territory_id"),
    )
    op.create_table(
        "region_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_region_runs_region_id", "region_runs", ["region_id"])
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_run_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_runs_region_run", "region_runs", ["region_run_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index("ix_runs_region_run_id", ["region_run_id"])
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_api_keys_region", "regions", ["region_id"], ["id"], ondelete="CASCADE")


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint("fk_api_keys_region", type_="foreignkey")
        batch_op.drop_column("region_id")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_region_run_id")
        batch_op.drop_constraint("fk_runs_region_run", type_="foreignkey")
        batch_op.drop_column("region_run_id")
    op.drop_index("ix_region_runs_region_id", table_name="region_runs")
    op.drop_table("region_runs")
    op.drop_table("region_territories")
    op.drop_table("regions")
