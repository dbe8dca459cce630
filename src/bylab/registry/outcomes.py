"""A project's evidence, one item at a time: its budget, funding lines, KPI results and
documents (editors of the project's owner change them; anyone reads them)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from bylab.core import Context
from bylab.errors import NotFound
from bylab.registry.actions import record_for_edit, record_get
from bylab.registry.documents import Upload, document_path, document_store
from bylab.registry.funding import FundingInput, check_money, funding_line_of
from bylab.registry.models import FundingLine, KpiResult, Project, ProjectDocument
from bylab.registry.results import ResultInput, result_of


def _project_for_edit(session: Session, ctx: Context, project_ref: str) -> Project:
    return record_for_edit(session, ctx, Project, project_ref, "project")


def budget_set(ctx: Context, project_ref: str, amount: Decimal | str | None,
               currency: str) -> None:
    """Set (or, without an amount, clear) the project's total budget."""
    with ctx.db.session() as session:
        project = _project_for_edit(session, ctx, project_ref)
        budget = check_money(amount, currency, "budget_amount", "budget_currency")
        project.budget_amount = budget.amount if budget else None
        project.budget_currency = budget.currency if budget else ""


def funding_add(ctx: Context, project_ref: str, data: FundingInput) -> FundingLine:
    """Add a funding line to the project."""
    with ctx.db.session() as session:
        line = funding_line_of(session, _project_for_edit(session, ctx, project_ref), data)
        session.add(line)
    return line


def result_add(ctx: Context, project_ref: str, data: ResultInput) -> KpiResult:
    """Add a KPI result (a KPI at a place, before and after) to the project."""
    with ctx.db.session() as session:
        result = result_of(session, _project_for_edit(session, ctx, project_ref), data,
                           ctx.actor.username or "")
        session.add(result)
    return result


def part_remove(ctx: Context, project_ref: str,
                model: type[FundingLine | KpiResult], part_id: int) -> None:
    """Remove one funding line or KPI result of the project."""
    with ctx.db.session() as session:
        project = _project_for_edit(session, ctx, project_ref)
        part = session.get(model, part_id)
        if part is None or part.project_id != project.id:
            raise NotFound("no such entry {entry} in this project", field="id", entry=part_id)
        session.delete(part)


def document_add(ctx: Context, project_ref: str, upload: Upload, title: str = "",
                 language: str = "") -> ProjectDocument:
    """Attach a file to the project (PDF, office document or picture, within the size
    limit); nothing is kept when anything fails."""
    written: list[Path] = []
    try:
        with ctx.db.session() as session:
            project = _project_for_edit(session, ctx, project_ref)
            document = document_store(session, ctx.settings, project, upload, title, language,
                                      ctx.actor.username or "")
            written.append(document_path(ctx.settings, document))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return document


def document_get(ctx: Context, project_ref: str, document_id: str) -> tuple[ProjectDocument,
                                                                            Path]:
    """A document of the project and where its bytes are."""
    with ctx.db.session() as session:
        project = record_get(session, Project, project_ref, "project")
        document = session.get(ProjectDocument, document_id)
        if document is None or document.project_id != project.id:
            raise NotFound("no document '{document}' in this project", field="document",
                           document=document_id)
    path = document_path(ctx.settings, document)
    if not path.is_file():
        raise NotFound("the file of document '{title}' is missing", field="document",
                       title=document.title)
    return document, path


def document_remove(ctx: Context, project_ref: str, document_id: str) -> None:
    """Remove a document of the project; its file goes once that has committed."""
    with ctx.db.session() as session:
        project = _project_for_edit(session, ctx, project_ref)
        document = session.get(ProjectDocument, document_id)
        if document is None or document.project_id != project.id:
            raise NotFound("no document '{document}' in this project", field="document",
                           document=document_id)
        path = document_path(ctx.settings, document)
        session.delete(document)
        event.listen(session, "after_commit", lambda _session: path.unlink(missing_ok=True),
                     once=True)
