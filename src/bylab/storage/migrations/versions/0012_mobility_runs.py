"""mobility: SUMO simulation runs (background jobs) and their results

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mobility_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("place_id", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("phase", sa.String(length=100), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("network", _JSON, nullable=False),
        sa.Column("demand", _JSON, nullable=False),
        sa.Column("provenance", _JSON, nullable=False),
        sa.Column("results", _JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("started", _WHEN, nullable=True),
        sa.Column("finished", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"],
            name=op.f("fk_mobility_runs_organisation_id_organisations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"],
            name=op.f("fk_mobility_runs_dataset_id_datasets"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mobility_runs")),
    )
    op.create_index(op.f("ix_mobility_runs_organisation_id"), "mobility_runs",
                    ["organisation_id"])
    op.create_index(op.f("ix_mobility_runs_status"), "mobility_runs", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_mobility_runs_status"), table_name="mobility_runs")
    op.drop_index(op.f("ix_mobility_runs_organisation_id"), table_name="mobility_runs")
    op.drop_table("mobility_runs")
