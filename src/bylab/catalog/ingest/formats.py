"""Which reader a file needs, from its name and its first bytes."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from bylab.errors import InvalidInput

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls
PARQUET_MAGIC = b"PAR1"
TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}


class SourceFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    GEOJSON = "geojson"
    PARQUET = "parquet"


def head_bytes(path: Path, size: int = 4096) -> bytes:
    with open(path, "rb") as source:
        return source.read(size)


def is_gzip(path: Path, filename: str) -> bool:
    return filename.lower().endswith(".gz") or head_bytes(path, 2) == GZIP_MAGIC


def inner_name(filename: str) -> str:
    """The name without a trailing .gz (``data.csv.gz`` → ``data.csv``)."""
    return filename[:-3] if filename.lower().endswith(".gz") else filename


def detect_format(path: Path, filename: str) -> SourceFormat:
    """The format of an (uncompressed) file, from its name, checked against its content."""
    suffix = Path(filename).suffix.lower()
    head = head_bytes(path)
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        return SourceFormat.XLSX  # the Excel reader explains files that are something else
    if suffix == ".parquet" or head.startswith(PARQUET_MAGIC):
        return SourceFormat.PARQUET
    if suffix in {".geojson", ".json"}:
        return SourceFormat.GEOJSON
    if head.startswith(ZIP_MAGIC) or head.startswith(OLE_MAGIC):
        return SourceFormat.XLSX
    if suffix in TEXT_SUFFIXES or not suffix:
        return SourceFormat.CSV
    if _looks_like_text(head):
        return SourceFormat.CSV
    raise InvalidInput(
        "unknown file type '{suffix}': publish CSV/TSV/TXT (optionally .gz), Excel .xlsx, "
        "GeoJSON or Parquet", file=filename, suffix=suffix)


def _looks_like_text(head: bytes) -> bool:
    return b"\x00" not in head and bool(head.strip())
