"""mobility: a failed run keeps its error as a message template with its values, so the run
pages show it in the reader's language (runs failed before keep their English text only)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("mobility_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_detail", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mobility_runs", schema=None) as batch_op:
        batch_op.drop_column("error_detail")
