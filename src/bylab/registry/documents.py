"""Files attached to projects: reports, presentations, spreadsheets and pictures.

Only PDF, office documents (OOXML, OpenDocument, the older Office formats) and pictures
(PNG, JPEG, GIF, WebP) are taken: the extension, the declared content type and the file's
first bytes must agree. The bytes are kept under ``<data_dir>/files/registry/<project id>/``
named by the document's id; deleting a document or its project removes them, and so does
deleting its organisation through ``bylab.registry.removal``."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path, PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.errors import InvalidInput, TooLarge
from bylab.registry.models import Project, ProjectDocument
from bylab.registry.taxonomy import LANGUAGES
from bylab.settings import Settings

MAX_DOCUMENT_BYTES = 25 * 1024 * 1024
MAX_TITLE_CHARS = 300
_ZIP, _OLE = (b"PK\x03\x04",), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)


@dataclass(frozen=True)
class FileKind:
    media_type: str
    signatures: tuple[bytes, ...]  # the file starts with one of these


_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
FILE_KINDS: dict[str, FileKind] = {
    ".pdf": FileKind("application/pdf", (b"%PDF-",)),
    ".docx": FileKind(_OOXML + "wordprocessingml.document", _ZIP),
    ".xlsx": FileKind(_OOXML + "spreadsheetml.sheet", _ZIP),
    ".pptx": FileKind(_OOXML + "presentationml.presentation", _ZIP),
    ".odt": FileKind(_ODF + "text", _ZIP),
    ".ods": FileKind(_ODF + "spreadsheet", _ZIP),
    ".odp": FileKind(_ODF + "presentation", _ZIP),
    ".doc": FileKind("application/msword", _OLE),
    ".xls": FileKind("application/vnd.ms-excel", _OLE),
    ".ppt": FileKind("application/vnd.ms-powerpoint", _OLE),
    ".png": FileKind("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": FileKind("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": FileKind("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": FileKind("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": FileKind("image/webp", (b"RIFF",)),
}
# What browsers and clients send when they do not know better.
_GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream"}


def document_limit(settings: Settings) -> int:
    """The largest document accepted: the upload limit of the settings, at most 25 MB."""
    return min(settings.max_upload_bytes, MAX_DOCUMENT_BYTES)


def registry_files_dir(settings: Settings) -> Path:
    """Where the projects' documents are kept, a folder per project."""
    return settings.data_dir / "files" / "registry"


def project_files_dir(settings: Settings, project_id: str) -> Path:
    return registry_files_dir(settings) / project_id


def document_path(settings: Settings, document: ProjectDocument) -> Path:
    return project_files_dir(settings, document.project_id) / document.id


def file_kind(filename: str, declared_type: str, head: bytes) -> FileKind:
    """The kind of an uploaded file, if its extension, declared type and first bytes agree;
    InvalidInput naming the ``file`` field otherwise."""
    suffix = PurePath(filename).suffix.lower()
    kind = FILE_KINDS.get(suffix)
    if kind is None:
        raise InvalidInput("'{name}' is not a PDF, office document or picture (allowed: "
                           "{allowed})", field="file", name=filename,
                           allowed=", ".join(sorted(FILE_KINDS)))
    declared = declared_type.split(";")[0].strip().lower()
    if declared not in _GENERIC_TYPES and declared != kind.media_type:
        raise InvalidInput("'{name}' is sent as {declared}, not {media_type}", field="file",
                           name=filename, declared=declared, media_type=kind.media_type)
    if not head.startswith(kind.signatures) or (suffix == ".webp" and head[8:12] != b"WEBP"):
        raise InvalidInput("'{name}' is not really a {suffix} file", field="file",
                           name=filename, suffix=suffix)
    return kind


def _checked_title(title: str, filename: str) -> str:
    cleaned = title.strip() or PurePath(filename).stem
    if len(cleaned) > MAX_TITLE_CHARS:
        raise InvalidInput("a title holds at most {most} characters", field="title",
                           most=MAX_TITLE_CHARS)
    return cleaned


def _checked_language(language: str) -> str:
    if language and language not in LANGUAGES:
        raise InvalidInput("unknown language '{language}'; use {languages}",
                           field="language", language=language,
                           languages=", ".join(LANGUAGES))
    return language


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    content: bytes


def document_store(session: Session, settings: Settings, project: Project, upload: Upload,
                   title: str, language: str, created_by: str) -> ProjectDocument:
    """Check the upload, add its document row and write its bytes; the caller removes the
    file if the transaction fails (``document_path``)."""
    name = PurePath(upload.filename.replace("\\", "/")).name
    if not name:
        raise InvalidInput("choose a file to upload", field="file")
    limit = document_limit(settings)
    if len(upload.content) > limit:
        raise TooLarge("a document holds at most {megabytes} MB", field="file",
                       megabytes=limit // 2**20)
    kind = file_kind(name, upload.content_type, upload.content[:16])
    document = ProjectDocument(project_id=project.id, title=_checked_title(title, name),
                               language=_checked_language(language), filename=name[:255],
                               media_type=kind.media_type, size_bytes=len(upload.content),
                               created_by=created_by)
    session.add(document)
    session.flush()
    path = document_path(settings, document)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(upload.content)
    return document


def documents_of(session: Session, project_id: str) -> list[ProjectDocument]:
    return list(session.scalars(select(ProjectDocument).where(
        ProjectDocument.project_id == project_id).order_by(ProjectDocument.created,
                                                           ProjectDocument.title)))


def project_files_remove(settings: Settings, project_id: str) -> None:
    """Remove every file of the project (its folder)."""
    shutil.rmtree(project_files_dir(settings, project_id), ignore_errors=True)
