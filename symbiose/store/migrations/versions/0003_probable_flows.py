"""probable flows of the pre-diagnostic: flows get a status (declared,
probable, superseded), a probability and a quantity range; companies keep
their size; visits that confirm a probable flow are traced; the latest visit
ranking of a territory is kept

Revision ID: 0003_probable_flows
Revises: 0003_regions
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_probable_flows"
down_revision = "0003_regions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="declared"))
        batch_op.add_column(sa.Column("probability", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("quantity_low", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("quantity_high", sa.Float(), nullable=True))
        batch_op.create_index("ix_flows_territory_status", ["territory_id", "status"], unique=False)
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("size_band", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("employees", sa.Float(), nullable=True))
    op.create_table(
        "flow_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=True),
        sa.Column("flow_uid", sa.String(length=32), nullable=False),
        sa.Column("company_external_id", sa.String(length=128), nullable=False),
        sa.Column("resource", sa.String(length=128), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("probable", sa.JSON(), nullable=False),
        sa.Column("declared", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["territory_id"], ["territories.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["flow_id"], ["flows.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("flow_visits", schema=None) as batch_op:
        batch_op.create_index("ix_flow_visits_territory_id", ["territory_id"], unique=False)
    op.create_table(
        "visit_rankings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["territory_id"], ["territories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("visit_rankings", schema=None) as batch_op:
        batch_op.create_index("ix_visit_rankings_territory_id", ["territory_id"], unique=False)


def downgrade() -> None:
    op.drop_table("visit_rankings")
    op.drop_table("flow_visits")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_column("employees")
        batch_op.drop_column("size_band")
    with op.batch_alter_table("flows", schema=None) as batch_op:
        batch_op.drop_index("ix_flows_territory_status")
        batch_op.drop_column("quantity_high")
        batch_op.drop_column("quantity_low")
        batch_op.drop_column("probability")
        batch_op.drop_column("status")
