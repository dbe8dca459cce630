"""indicator targets: a KPI's target value and year for a place, a parent's places or a
country, with its kind (national, sdg, own) and source

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 22:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_targets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kpi_code", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("place_id", sa.String(length=64), nullable=False),
        sa.Column("target_value", sa.Float(), nullable=False),
        sa.Column("target_year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_targets")),
    )
    op.create_index(op.f("ix_indicator_targets_kpi_code"), "indicator_targets", ["kpi_code"])
    op.create_index(op.f("ix_indicator_targets_place_id"), "indicator_targets", ["place_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_indicator_targets_place_id"), table_name="indicator_targets")
    op.drop_index(op.f("ix_indicator_targets_kpi_code"), table_name="indicator_targets")
    op.drop_table("indicator_targets")
