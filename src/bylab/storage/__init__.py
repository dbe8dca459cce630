"""Storage: the metadata database (SQLite embedded, PostgreSQL when configured) and the
columnar table store (Parquet files queried with DuckDB)."""
