"""harvest sources: saved, scheduled harvests, their run logs and dead letters

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "harvest_sources",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("table_ref", sa.String(length=300), nullable=False),
        sa.Column("query", _JSON, nullable=False),
        sa.Column("dataset_name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("licence_id", sa.String(length=50), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("schedule", sa.String(length=40), nullable=False),
        sa.Column("next_run_at", _WHEN, nullable=True),
        sa.Column("known_variables", _JSON, nullable=False),
        sa.Column("state", _JSON, nullable=False),
        sa.Column("claimed_until", _WHEN, nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("modified", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"],
            name=op.f("fk_harvest_sources_organisation_id_organisations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_harvest_sources_name")),
    )
    op.create_index(op.f("ix_harvest_sources_organisation_id"), "harvest_sources",
                    ["organisation_id"])
    op.create_index(op.f("ix_harvest_sources_next_run_at"), "harvest_sources", ["next_run_at"])
    op.create_table(
        "harvest_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("started", _WHEN, nullable=False),
        sa.Column("finished", _WHEN, nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_stored", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("dataset_version", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("notes", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["harvest_sources.id"],
            name=op.f("fk_harvest_runs_source_id_harvest_sources"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_runs")),
    )
    op.create_index(op.f("ix_harvest_runs_source_id"), "harvest_runs", ["source_id"])
    op.create_table(
        "harvest_dead_letters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("replayed_at", _WHEN, nullable=True),
        sa.Column("replayed_by", sa.String(length=100), nullable=False),
        sa.Column("tried_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["harvest_runs.id"],
            name=op.f("fk_harvest_dead_letters_run_id_harvest_runs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_dead_letters")),
    )
    op.create_index(op.f("ix_harvest_dead_letters_run_id"), "harvest_dead_letters", ["run_id"])


def downgrade() -> None:
    op.drop_table("harvest_dead_letters")
    op.drop_table("harvest_runs")
    op.drop_table("harvest_sources")
