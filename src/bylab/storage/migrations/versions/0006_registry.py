"""registry: projects (cases) with partners and stage history, challenges, solutions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_WHEN = sa.DateTime(timezone=True)


def _owner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["organisation_id"], ["organisations.id"],
        name=op.f(f"fk_{table}_organisation_id_organisations"), ondelete="CASCADE")


def _record_columns() -> list[sa.Column]:
    """Columns every registry record has: identity, owner, title and bookkeeping."""
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("title", _JSON, nullable=False),
        sa.Column("domains", _JSON, nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
    ]


def _create_record_table(table: str, *columns: sa.Column) -> None:
    op.create_table(
        table, *_record_columns(), *columns, _owner_fk(table),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("name", name=op.f(f"uq_{table}_name")),
    )
    op.create_index(op.f(f"ix_{table}_organisation_id"), table, ["organisation_id"])


def upgrade() -> None:
    _create_record_table(
        "registry_projects",
        sa.Column("description", _JSON, nullable=False),
        sa.Column("technologies", _JSON, nullable=False),
        sa.Column("place_ids", _JSON, nullable=False),
        sa.Column("links", _JSON, nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
    )
    _create_record_table(
        "registry_challenges",
        sa.Column("needs", _JSON, nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("kpi_codes", _JSON, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
    )
    _create_record_table(
        "registry_solutions",
        sa.Column("description", _JSON, nullable=False),
        sa.Column("technologies", _JSON, nullable=False),
        sa.Column("project_ids", _JSON, nullable=False),
    )
    op.create_table(
        "registry_project_partners",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["registry_projects.id"],
            name=op.f("fk_registry_project_partners_project_id_registry_projects"),
            ondelete="CASCADE"),
        _owner_fk("registry_project_partners"),
        sa.PrimaryKeyConstraint("project_id", "organisation_id",
                                name=op.f("pk_registry_project_partners")),
    )
    op.create_table(
        "registry_stage_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("changed_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["registry_projects.id"],
            name=op.f("fk_registry_stage_changes_project_id_registry_projects"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_stage_changes")),
    )
    op.create_index(op.f("ix_registry_stage_changes_project_id"), "registry_stage_changes",
                    ["project_id"])


def downgrade() -> None:
    op.drop_table("registry_stage_changes")
    op.drop_table("registry_project_partners")
    for table in ("registry_solutions", "registry_challenges", "registry_projects"):
        op.drop_index(op.f(f"ix_{table}_organisation_id"), table_name=table)
        op.drop_table(table)
