"""catalogue search index: substring search on datasets.search_text without a full scan

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 20:20:00

SQLite: an FTS5 table with the trigram tokenizer (substring matching, as LIKE '%word%')
holding each dataset's id and search text, kept in step with ``datasets`` by triggers, so
every write path (publish, update, delete, bulk loads) updates it in the same transaction.
It is keyed by the dataset id, not the rowid: VACUUM may renumber the implicit rowids of a
table without an INTEGER PRIMARY KEY. An index on (visibility, id, modified, name) lets the
visibility check and the sort of each match read the index only, never the row.

Both: an index on (organisation_id, visibility, modified, id), so a publisher's datasets come
in order from the index (SQLite has no statistics to prefer it otherwise).

PostgreSQL: the pg_trgm extension and a trigram GIN index on ``datasets.search_text``, which
``search_text LIKE '%word%'`` uses directly.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SEARCH_INDEX_TABLE = "dataset_search_index"  # bylab.catalog.queries reads it by this name

ORGANISATION_INDEX = ("CREATE INDEX ix_datasets_organisation_visibility "
                      "ON datasets (organisation_id, visibility, modified, id)")
SQLITE_UPGRADE = [
    f"CREATE VIRTUAL TABLE {SEARCH_INDEX_TABLE} USING fts5("
    "dataset_id UNINDEXED, search_text, tokenize = 'trigram')",
    f"INSERT INTO {SEARCH_INDEX_TABLE} (dataset_id, search_text) "
    "SELECT id, search_text FROM datasets",
    f"CREATE TRIGGER datasets_search_index_insert AFTER INSERT ON datasets BEGIN "
    f"INSERT INTO {SEARCH_INDEX_TABLE} (dataset_id, search_text) "
    "VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER datasets_search_index_update AFTER UPDATE OF id, search_text ON datasets "
    f"BEGIN DELETE FROM {SEARCH_INDEX_TABLE} WHERE dataset_id = old.id; "
    f"INSERT INTO {SEARCH_INDEX_TABLE} (dataset_id, search_text) "
    "VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER datasets_search_index_delete AFTER DELETE ON datasets BEGIN "
    f"DELETE FROM {SEARCH_INDEX_TABLE} WHERE dataset_id = old.id; END",
    "CREATE INDEX ix_datasets_visibility_id ON datasets (visibility, id, modified, name)",
    ORGANISATION_INDEX,
]
SQLITE_DOWNGRADE = [
    "DROP INDEX ix_datasets_organisation_visibility",
    "DROP INDEX ix_datasets_visibility_id",
    "DROP TRIGGER datasets_search_index_delete",
    "DROP TRIGGER datasets_search_index_update",
    "DROP TRIGGER datasets_search_index_insert",
    f"DROP TABLE {SEARCH_INDEX_TABLE}",
]
POSTGRES_UPGRADE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_datasets_search_text_trgm ON datasets USING gin (search_text gin_trgm_ops)",
    ORGANISATION_INDEX,
]
POSTGRES_DOWNGRADE = ["DROP INDEX ix_datasets_organisation_visibility",
                      "DROP INDEX ix_datasets_search_text_trgm"]


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    for statement in SQLITE_UPGRADE if _is_sqlite() else POSTGRES_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWNGRADE if _is_sqlite() else POSTGRES_DOWNGRADE:
        op.execute(statement)
