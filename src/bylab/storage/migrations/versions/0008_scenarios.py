"""scenarios: saved what-if scenarios and who they are shared with

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "scenarios",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("spec", _JSON, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("modified", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_scenarios_organisation_id_organisations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenarios")),
        sa.UniqueConstraint("name", name=op.f("uq_scenarios_name")),
    )
    op.create_index(op.f("ix_scenarios_organisation_id"), "scenarios", ["organisation_id"])
    op.create_index(op.f("ix_scenarios_visibility"), "scenarios", ["visibility"])
    op.create_table(
        "scenario_shares",
        sa.Column("scenario_id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"],
                                name=op.f("fk_scenario_shares_scenario_id_scenarios"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_scenario_shares_organisation_id_organisations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("scenario_id", "organisation_id",
                                name=op.f("pk_scenario_shares")),
    )
    op.create_index(op.f("ix_scenario_shares_organisation_id"), "scenario_shares",
                    ["organisation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_scenario_shares_organisation_id"), table_name="scenario_shares")
    op.drop_table("scenario_shares")
    op.drop_index(op.f("ix_scenarios_visibility"), table_name="scenarios")
    op.drop_index(op.f("ix_scenarios_organisation_id"), table_name="scenarios")
    op.drop_table("scenarios")
