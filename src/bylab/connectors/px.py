"""PC-Axis (``.px``) files, as Statistics Norway, Sweden and Finland publish them, into the same
tidy table as a JSON-stat answer. The file format itself is read by ``pyaxis``; this module
turns its dimensions (STUB then HEADING, codes from CODES, time from TIMEVAL) and cells into
``bylab.connectors.jsonstat`` dimensions and cells."""

from __future__ import annotations

import contextlib
import io
import itertools
import re
from pathlib import Path
from typing import Any

from pyaxis import pyaxis

from bylab.connectors.jsonstat import Cell, Dimension, ParsedTable, tidy_table
from bylab.errors import InvalidInput

__all__ = ["is_px", "parse_px_file"]

NEVER_MATCHES = r"(?!)"  # keep every cell as written: markers are read by tidy_table
CHARSET_PATTERN = re.compile(rb'(?:CODEPAGE|CHARSET)\s*=\s*"([^"]+)"', re.IGNORECASE)


def is_px(path: Path) -> bool:
    """A PX file starts with keywords (``CHARSET=``, ``AXIS-VERSION=`` …), not with JSON."""
    head = path.read_bytes()[:200].lstrip(b"\xef\xbb\xbf \r\n\t")
    return path.suffix.lower() == ".px" or re.match(rb"[A-Z-]+(\([^)]*\))?=", head) is not None


def parse_px_file(path: Path, filename: str | None = None) -> ParsedTable:
    """Parse a PX file; ``filename`` names it in error messages."""
    filename = filename or path.name
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # pyaxis prints about multilingual files
                parsed = pyaxis.parse(str(path), encoding=_encoding(path),
                                  null_values=NEVER_MATCHES, sd_values=NEVER_MATCHES)
    except (OSError, ValueError, KeyError, IndexError, UnicodeDecodeError) as error:
        raise InvalidInput("not a readable PX file ({error})", file=filename,
                           error=error) from None
    metadata: dict[str, list[str]] = parsed["METADATA"]
    dimensions = [_dimension(metadata, name, filename)
                  for name in metadata.get("STUB", []) + metadata.get("HEADING", [])]
    values = [str(value).strip().strip('"') for value in parsed["DATA"]["DATA"]]
    sizes = [len(dimension.codes) for dimension in dimensions]  # pyaxis checked the count
    cells = (Cell(positions, value) for positions, value in
             zip(itertools.product(*(range(size) for size in sizes)), values, strict=True))
    described = {"label": _joined(metadata, "TITLE"), "source": _joined(metadata, "SOURCE"),
                 "updated": _joined(metadata, "LAST-UPDATED") or None}
    return tidy_table(described, dimensions, cells, _joined(metadata, "UNITS") or None)


def _encoding(path: Path) -> str:
    """CODEPAGE if given; CHARSET="ANSI" is Windows-1252; files without either are Latin-1,
    as the format's older writers made them."""
    with path.open("rb") as px_file:
        head = px_file.read(4096)
    match = CHARSET_PATTERN.search(head)
    declared = match.group(1).decode("ascii", "replace").lower() if match else ""
    if declared in ("", "ansi"):
        return "windows-1252"
    return declared


def _dimension(metadata: dict[str, list[str]], name: str, filename: str) -> Dimension:
    labels = metadata.get(f"VALUES({name})")
    if not labels:
        raise InvalidInput("no VALUES for variable '{name}'", file=filename,
                           field=f"VALUES({name})", name=name)
    codes = metadata.get(f"CODES({name})") or labels
    if len(codes) != len(labels):
        raise InvalidInput("{codes} codes for {values} values of '{name}'",
                           file=filename, field=f"CODES({name})", codes=len(codes),
                           values=len(labels), name=name)
    # Time codes: PX TIMEVAL writes 20061 for 2006K1; the VALUES say it the PxWeb way.
    is_time = f"TIMEVAL({name})" in metadata
    return Dimension(id=name, label=name, codes=labels if is_time else codes, labels=labels,
                     role="time" if is_time else None)


def _joined(metadata: dict[str, Any], keyword: str) -> str:
    """A keyword's value; PX splits long strings over several quoted parts."""
    return " ".join(str(part) for part in metadata.get(keyword, [])).strip()
