"""What the registry keeps outside its rows when an organisation goes.

The database cascades an organisation's projects, challenges and solutions (and their
funding, results and document rows), but not the files of the projects' documents on disk,
nor the search index rows, which name records without a foreign key. The code that deletes
an organisation calls ``organisation_records_remove`` in the same transaction, before the
delete; ``registry_files_prune`` clears the files of projects deleted some other way (SQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.registry.documents import project_files_remove, registry_files_dir
from bylab.registry.index import MODEL_BY_TYPE, index_record
from bylab.registry.models import Project
from bylab.settings import Settings


def organisation_records_remove(session: Session, settings: Settings,
                                organisation_id: str) -> list[str]:
    """Take the organisation's records out of the search index now and remove its projects'
    files once the transaction has committed; the ids of those projects."""
    project_ids: list[str] = []
    for record_type, model in MODEL_BY_TYPE.items():
        for record in session.scalars(select(model).where(
                model.organisation_id == organisation_id)):
            index_record(session, record_type, record, remove=True)
            if isinstance(record, Project):
                project_ids.append(record.id)

    def remove_files(_session: Session) -> None:
        for project_id in project_ids:
            project_files_remove(settings, project_id)

    event.listen(session, "after_commit", remove_files, once=True)
    return project_ids


def registry_files_prune(ctx: Context) -> list[str]:
    """Remove the document folders of projects that no longer exist; their project ids."""
    held = {path.name: path for path in _folders_in(registry_files_dir(ctx.settings))}
    if not held:
        return []
    with ctx.db.session() as session:
        existing = set(session.scalars(select(Project.id).where(Project.id.in_(held))))
    gone = sorted(set(held) - existing)
    for project_id in gone:
        project_files_remove(ctx.settings, project_id)
    return gone


def _folders_in(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if path.is_dir()] if folder.is_dir() else []
