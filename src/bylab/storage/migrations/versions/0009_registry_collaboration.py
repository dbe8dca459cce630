"""registry collaboration: follows, comments, notifications, relations

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                   name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "registry_follows",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.String(length=36), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        _user_fk("registry_follows"),
        sa.PrimaryKeyConstraint("user_id", "target_type", "target_id",
                                name=op.f("pk_registry_follows")),
    )
    op.create_index(op.f("ix_registry_follows_target_id"), "registry_follows", ["target_id"])
    op.create_table(
        "registry_comments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.String(length=36), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_comments")),
    )
    op.create_index(op.f("ix_registry_comments_target_id"), "registry_comments", ["target_id"])
    op.create_table(
        "registry_notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.String(length=36), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        sa.Column("read", sa.Boolean(), nullable=False),
        _user_fk("registry_notifications"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_notifications")),
    )
    op.create_index(op.f("ix_registry_notifications_user_id"), "registry_notifications",
                    ["user_id"])
    _create_search_index()
    _create_actor_relations()


def _create_actor_relations() -> None:
    table = "registry_actor_relations"
    op.create_table(
        table,
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created", _WHEN, nullable=False),
        *[sa.ForeignKeyConstraint([column], ["organisations.id"],
                                  name=op.f(f"fk_{table}_{column}_organisations"),
                                  ondelete="CASCADE")
          for column in ("subject_id", "object_id")],
        sa.PrimaryKeyConstraint("subject_id", "kind", "object_id", name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_object_id"), table, ["object_id"])


def _create_search_index() -> None:
    op.create_table(
        "registry_search_terms",
        sa.Column("term_key", sa.String(length=60), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("phrase", sa.String(length=200), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("tagged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("term_key", "record_id", name=op.f("pk_registry_search_terms")),
    )
    op.create_table(
        "registry_search_words",
        sa.Column("word", sa.String(length=100), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("word", "record_id", name=op.f("pk_registry_search_words")),
    )
    op.create_table(
        "registry_search_vocabulary",
        sa.Column("word", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_registry_search_vocabulary")),
    )
    for table in ("registry_search_terms", "registry_search_words"):
        op.create_index(op.f(f"ix_{table}_record_id"), table, ["record_id"])
    op.create_index("ix_registry_search_terms_rank", "registry_search_terms",
                    ["term_key", "score", "record_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_registry_actor_relations_object_id"),
                  table_name="registry_actor_relations")
    op.drop_table("registry_actor_relations")
    op.drop_index("ix_registry_search_terms_rank", table_name="registry_search_terms")
    for table in ("registry_search_words", "registry_search_terms"):
        op.drop_index(op.f(f"ix_{table}_record_id"), table_name=table)
        op.drop_table(table)
    op.drop_table("registry_search_vocabulary")
    op.drop_index(op.f("ix_registry_notifications_user_id"), table_name="registry_notifications")
    op.drop_table("registry_notifications")
    op.drop_index(op.f("ix_registry_comments_target_id"), table_name="registry_comments")
    op.drop_table("registry_comments")
    op.drop_index(op.f("ix_registry_follows_target_id"), table_name="registry_follows")
    op.drop_table("registry_follows")
