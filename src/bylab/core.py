"""The bylab instance (settings, metadata database, table store) and the per-request context."""

from __future__ import annotations

from dataclasses import dataclass

from bylab.auth.actor import Actor
from bylab.settings import Settings
from bylab.storage.database import Database
from bylab.storage.tables import TableStore


class Bylab:
    """One configured instance. Build it with settings; nothing is read at import."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.db = Database(self.settings.effective_database_url)
        self.tables = TableStore(self.settings.tables_dir)

    def setup(self) -> None:
        """Create the data folders and bring the database schema up to date."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings.tables_dir.mkdir(parents=True, exist_ok=True)
        self.db.upgrade()

    def context(self, actor: Actor | None = None) -> Context:
        return Context(self, actor or Actor.anonymous())

    def system_context(self) -> Context:
        """A context with every right, for the CLI's administrative commands and loaders."""
        return Context(self, Actor.system())

    def close(self) -> None:
        self.tables.close()
        self.db.dispose()


@dataclass(frozen=True)
class Context:
    """Who is asking, and of which instance. Every action takes one."""

    bylab: Bylab
    actor: Actor

    @property
    def settings(self) -> Settings:
        return self.bylab.settings

    @property
    def db(self) -> Database:
        return self.bylab.db

    @property
    def tables(self) -> TableStore:
        return self.bylab.tables
