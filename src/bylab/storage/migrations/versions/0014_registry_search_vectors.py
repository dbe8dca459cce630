"""registry: multilingual sentence embeddings of records for search and matching

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_search_vectors",
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("text_sha1", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=60), nullable=True),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
        sa.Column("embedded_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_registry_search_vectors")),
    )
    op.create_index(op.f("ix_registry_search_vectors_embedded_at"), "registry_search_vectors",
                    ["embedded_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_registry_search_vectors_embedded_at"),
                  table_name="registry_search_vectors")
    op.drop_table("registry_search_vectors")
