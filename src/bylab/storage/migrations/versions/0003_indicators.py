"""indicators: computed KPI values and missing-value records with provenance

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "indicator_values",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kpi_code", sa.String(length=40), nullable=False),
        sa.Column("place_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("dataset_ids", _JSON, nullable=False),
        sa.Column("provenance", _JSON, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_values")),
        sa.UniqueConstraint("kpi_code", "place_id", "period",
                            name=op.f("uq_indicator_values_kpi_code")),
    )
    op.create_index(op.f("ix_indicator_values_kpi_code"), "indicator_values", ["kpi_code"])
    op.create_index(op.f("ix_indicator_values_place_id"), "indicator_values", ["place_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_indicator_values_place_id"), table_name="indicator_values")
    op.drop_index(op.f("ix_indicator_values_kpi_code"), table_name="indicator_values")
    op.drop_table("indicator_values")
