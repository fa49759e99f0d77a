"""edits in the pages: a company's contact (person, phone, e-mail), visit date
and notes; every change to a company or a flow kept with who and when

Revision ID: 0003_edits
Revises: 0003_probable_flows
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_edits"
down_revision = "0003_probable_flows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_name", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("visit_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
    op.create_table(
        "edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_key", sa.String(length=128), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["territory_id"], ["territories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_edits_entity", "edits", ["territory_id", "entity", "entity_key", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_edits_entity", table_name="edits")
    op.drop_table("edits")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        for column in ("notes", "visit_date", "email", "phone", "contact_name"):
            batch_op.drop_column(column)
