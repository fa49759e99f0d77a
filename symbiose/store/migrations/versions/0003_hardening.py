"""hardening: a data version per territory (cache invalidation on every write),
API key expiry, server-side web sessions (sign-out revokes)

Revision ID: 0003_hardening
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_hardening"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("territories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_sessions_key_id", "web_sessions", ["key_id"], unique=False)
    # one queued run per territory; runs a stopped server left waiting are failed at start anyway
    op.execute("UPDATE runs SET status = 'failed', error = 'interrompu par une mise à jour du serveur' "
               "WHERE status IN ('queued', 'running')")
    op.create_index("uq_runs_one_queued", "runs", ["territory_id"], unique=True,
                    sqlite_where=sa.text("status = 'queued'"), postgresql_where=sa.text("status = 'queued'"))


def downgrade() -> None:
    op.drop_index("uq_runs_one_queued", table_name="runs")
    op.drop_index("ix_web_sessions_key_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("territories", schema=None) as batch_op:
        batch_op.drop_column("data_version")
