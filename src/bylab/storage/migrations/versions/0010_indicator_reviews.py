"""indicator reviews: sign-off of computed values, invalidated when inputs change

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kpi_code", sa.String(length=40), nullable=False),
        sa.Column("place_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=False),
        sa.Column("reviewer", sa.String(length=100), nullable=False),
        sa.Column("reviewer_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_reviews")),
    )
    op.create_index(op.f("ix_indicator_reviews_kpi_code"), "indicator_reviews", ["kpi_code"])
    op.create_index(op.f("ix_indicator_reviews_place_id"), "indicator_reviews", ["place_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_indicator_reviews_place_id"), table_name="indicator_reviews")
    op.drop_index(op.f("ix_indicator_reviews_kpi_code"), table_name="indicator_reviews")
    op.drop_table("indicator_reviews")
