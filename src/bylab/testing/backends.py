"""Throw-away bylab instances on the embedded database or on a PostgreSQL server.

PostgreSQL instances are cloned from a migrated template database, so each test gets its own
empty, migrated database in a fraction of a second and never touches anyone's real data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bylab.core import Bylab
from bylab.settings import Settings
from bylab.storage.database import upgrade_schema

POSTGRES_ADMIN_URL = os.environ.get(
    "BYLAB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _admin_engine():  # noqa: ANN202
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_size=1)


def postgres_template(name: str) -> str:
    """Create (once) a migrated template database and return its name."""
    admin = _admin_engine()
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if exists:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(_database_url(name))
    upgrade_schema(engine)
    engine.dispose()
    return name


def _database_url(name: str) -> str:
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@contextmanager
def postgres_database(template: str) -> Iterator[str]:
    """A fresh database cloned from ``template``, dropped afterwards."""
    name = f"bylab_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _database_url(name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def drop_database(name: str) -> None:
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def embedded_instance(data_dir: Path, **settings: object) -> Bylab:
    bylab = Bylab(Settings(data_dir=data_dir, secret_key="test-secret", **settings))
    bylab.setup()
    return bylab


def postgres_instance(data_dir: Path, database_url: str, **settings: object) -> Bylab:
    bylab = Bylab(
        Settings(data_dir=data_dir, database_url=database_url, secret_key="test-secret",
                 **settings)
    )
    bylab.setup()
    return bylab
