"""An organisation that goes takes its projects' document files and its records' search rows
with it; files of projects deleted some other way are pruned."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select

from bylab.auth import actions as accounts
from bylab.auth.models import Organisation
from bylab.core import Bylab, Context
from bylab.registry.actions import (
    ProjectInput,
    SolutionInput,
    project_create,
    solution_create,
)
from bylab.registry.models import Project, SearchVector, SearchWord
from bylab.registry.outcomes import document_add
from bylab.registry.documents import Upload, project_files_dir
from bylab.registry.removal import organisation_records_remove, registry_files_prune
from bylab.registry.search import registry_search

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _project_with_document(ctx: Context, organisation: str, name: str) -> Path:
    """A project of the organisation with one document; its folder of files."""
    accounts.organisation_create(ctx, organisation, organisation.title())
    project = project_create(ctx, organisation, ProjectInput(
        name=name, title={"en": f"District heating {name}"})).project
    document_add(ctx, name, Upload("report.pdf", "application/pdf", PDF), "Report", "en")
    return project_files_dir(ctx.settings, project.id)


def _delete_organisation(instance: Bylab, name: str, hook: bool) -> None:
    """Delete the organisation's row (the database cascades its records), with the
    registry's hook called first when ``hook``."""
    with instance.db.session() as session:
        organisation_id = session.scalars(
            select(Organisation.id).where(Organisation.name == name)).one()
        if hook:
            organisation_records_remove(session, instance.settings, organisation_id)
        session.execute(delete(Organisation).where(Organisation.id == organisation_id))


def test_deleting_an_organisation_removes_its_documents_and_search_rows(bylab: Bylab) -> None:
    ctx = bylab.system_context()
    gone_folder = _project_with_document(ctx, "test-gone", "test-gone-heating")
    solution_create(ctx, "test-gone", SolutionInput(
        name="test-gone-meters", title={"en": "Heat meters"}))
    kept_folder = _project_with_document(ctx, "test-kept", "test-kept-heating")
    assert {hit.name for hit in registry_search(ctx, "district heating")} >= {
        "test-gone-heating", "test-kept-heating"}

    _delete_organisation(bylab, "test-gone", hook=True)

    assert not gone_folder.exists()
    assert [path.name for path in kept_folder.iterdir()] != []
    with bylab.db.session() as session:
        assert session.scalars(select(Project.name)).all() == ["test-kept-heating"]
        indexed = set(session.scalars(select(SearchWord.record_id)))
        indexed |= set(session.scalars(select(SearchVector.record_id)))
        kept_id = session.scalars(select(Project.id)).one()
    assert indexed == {kept_id}
    assert [hit.name for hit in registry_search(ctx, "district heating")] == [
        "test-kept-heating"]


def test_prune_removes_the_files_of_projects_deleted_without_the_hook(bylab: Bylab) -> None:
    ctx = bylab.system_context()
    gone_folder = _project_with_document(ctx, "test-gone", "test-gone-heating")
    kept_folder = _project_with_document(ctx, "test-kept", "test-kept-heating")
    _delete_organisation(bylab, "test-gone", hook=False)
    assert gone_folder.exists()  # the database cascade alone leaves the files

    assert registry_files_prune(ctx) == [gone_folder.name]

    assert not gone_folder.exists() and kept_folder.exists()
    assert registry_files_prune(ctx) == []
