"""Write actions on the catalogue: publish, version, describe, share and delete datasets.

CONTRACT (implementation in progress): these signatures are what the web pages, the REST API,
the CLI and the demo loader call.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bylab.catalog.metadata import DatasetMetadata
from bylab.catalog.models import Dataset, DatasetVersion, Visibility
from bylab.core import Context

# progress(done, total, unit): bytes read so far out of total (total may be None).
ProgressCallback = Callable[[int, int | None, str], None]


def dataset_publish(
    ctx: Context,
    metadata: DatasetMetadata,
    source: Path,
    filename: str | None = None,
    progress: ProgressCallback | None = None,
) -> Dataset:
    """Create a dataset and store ``source`` as its version 1, all or nothing: a bad file
    leaves no dataset behind. ``filename`` is the user's name for the file (for messages
    and the format guess); defaults to ``source.name``."""
    raise NotImplementedError


def dataset_create(ctx: Context, metadata: DatasetMetadata) -> Dataset:
    """Create a dataset's record without data (versions are added later)."""
    raise NotImplementedError


def dataset_add_version(
    ctx: Context,
    name_or_id: str,
    source: Path,
    filename: str | None = None,
    note: str = "",
    progress: ProgressCallback | None = None,
) -> DatasetVersion:
    """Store a new version of a dataset's data. Earlier versions stay readable."""
    raise NotImplementedError


def dataset_update(ctx: Context, name_or_id: str, metadata: DatasetMetadata) -> Dataset:
    """Replace a dataset's metadata (not its data)."""
    raise NotImplementedError


def dataset_share_set(
    ctx: Context, name_or_id: str, visibility: Visibility, shared_with: list[str]
) -> Dataset:
    """Set who may see a dataset."""
    raise NotImplementedError


def dataset_delete(ctx: Context, name_or_id: str) -> None:
    """Delete a dataset with all its versions."""
    raise NotImplementedError
