"""registry: project budget, funding, KPI results, success factors, lessons learned and
documents; challenge constraints and responses

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_WHEN = sa.DateTime(timezone=True)
_MONEY = sa.Numeric(precision=16, scale=2)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    target_table = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], ondelete=ondelete,
                                   name=op.f(f"fk_{table}_{column}_{target_table}"))


def _project_fk(table: str) -> sa.ForeignKeyConstraint:
    return _fk(table, "project_id", "registry_projects.id", "CASCADE")


def upgrade() -> None:
    # Existing rows get empty values through the server defaults.
    op.add_column("registry_projects", sa.Column("budget_amount", _MONEY, nullable=True))
    op.add_column("registry_projects", sa.Column("budget_currency", sa.String(length=3),
                                                 nullable=False, server_default=""))
    for column in ("success_factors", "lessons_learned"):
        op.add_column("registry_projects", sa.Column(column, _JSON, nullable=False,
                                                     server_default="{}"))
    op.add_column("registry_challenges", sa.Column("constraints", _JSON, nullable=False,
                                                   server_default="{}"))
    _create_funding_lines()
    _create_kpi_results()
    _create_documents()
    _create_responses()


def _create_funding_lines() -> None:
    op.create_table(
        "registry_funding_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("funder_organisation_id", sa.String(length=36), nullable=True),
        sa.Column("funder_name", sa.String(length=300), nullable=False),
        sa.Column("programme", sa.String(length=300), nullable=False),
        sa.Column("amount", _MONEY, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("year_from", sa.Integer(), nullable=True),
        sa.Column("year_to", sa.Integer(), nullable=True),
        _project_fk("registry_funding_lines"),
        _fk("registry_funding_lines", "funder_organisation_id", "organisations.id",
            "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_funding_lines")),
    )
    op.create_index(op.f("ix_registry_funding_lines_project_id"), "registry_funding_lines",
                    ["project_id"])


def _create_kpi_results() -> None:
    op.create_table(
        "registry_kpi_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("kpi_code", sa.String(length=40), nullable=False),
        sa.Column("place_id", sa.String(length=64), nullable=False),
        sa.Column("before_period", sa.String(length=16), nullable=False),
        sa.Column("after_period", sa.String(length=16), nullable=False),
        sa.Column("reported_before", sa.Float(), nullable=True),
        sa.Column("reported_after", sa.Float(), nullable=True),
        sa.Column("reported_unit", sa.String(length=80), nullable=False),
        sa.Column("reported_source", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        _project_fk("registry_kpi_results"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_kpi_results")),
    )
    op.create_index(op.f("ix_registry_kpi_results_project_id"), "registry_kpi_results",
                    ["project_id"])


def _create_documents() -> None:
    op.create_table(
        "registry_project_documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        _project_fk("registry_project_documents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_project_documents")),
    )
    op.create_index(op.f("ix_registry_project_documents_project_id"),
                    "registry_project_documents", ["project_id"])


def _create_responses() -> None:
    table = "registry_challenge_responses"
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("challenge_id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=True),
        sa.Column("solution_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("status_by", sa.String(length=100), nullable=False),
        sa.Column("status_at", _WHEN, nullable=True),
        _fk(table, "challenge_id", "registry_challenges.id", "CASCADE"),
        _fk(table, "organisation_id", "organisations.id", "CASCADE"),
        _fk(table, "project_id", "registry_projects.id", "SET NULL"),
        _fk(table, "solution_id", "registry_solutions.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_challenge_responses")),
    )
    op.create_index(op.f("ix_registry_challenge_responses_challenge_id"), table,
                    ["challenge_id"])


def downgrade() -> None:
    for table in ("registry_challenge_responses", "registry_project_documents",
                  "registry_kpi_results", "registry_funding_lines"):
        op.drop_table(table)
    with op.batch_alter_table("registry_challenges") as batch:
        batch.drop_column("constraints")
    with op.batch_alter_table("registry_projects") as batch:
        for column in ("lessons_learned", "success_factors", "budget_currency",
                       "budget_amount"):
            batch.drop_column(column)
