"""Size limits and decompression-bomb guards, checked while reading, before any parsing."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from bylab.catalog.ingest.progress import ByteProgress
from bylab.errors import InvalidInput, TooLarge
from bylab.settings import Settings

READ_CHUNK_BYTES = 1024 * 1024
# Below this much output, a high ratio is a small repetitive file, not a bomb.
BOMB_FLOOR_BYTES = 1024 * 1024


def check_file_size(path: Path, filename: str, settings: Settings) -> int:
    """The file's size; TooLarge when it is over ``max_upload_bytes``."""
    size = path.stat().st_size
    if size > settings.max_upload_bytes:
        raise TooLarge("the file is {size:,} bytes; the limit is {limit:,}", file=filename,
                       size=size, limit=settings.max_upload_bytes)
    return size


def _check_expansion(written: int, consumed: int, filename: str, settings: Settings) -> None:
    if written > settings.max_upload_bytes:
        raise TooLarge("the file unpacks to more than {limit:,} bytes",
                       file=filename, limit=settings.max_upload_bytes)
    if written > BOMB_FLOOR_BYTES and written > consumed * settings.max_compression_ratio:
        raise TooLarge("the file unpacks to over {ratio} times its packed size (a compression "
                       "bomb?)", file=filename, ratio=settings.max_compression_ratio)


def gunzip_guarded(source: Path, target: Path, filename: str, settings: Settings,
                   progress: ByteProgress) -> None:
    """Decompress a gzip file, stopping as soon as a limit is passed."""
    packed_size = source.stat().st_size
    decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    consumed = written = 0
    with open(source, "rb") as packed, open(target, "wb") as unpacked:
        while chunk := packed.read(READ_CHUNK_BYTES // 16):
            consumed += len(chunk)
            pending = chunk
            while pending:
                # max_length bounds each step, so a bomb is caught within one step's output
                try:
                    output = decompressor.decompress(pending, READ_CHUNK_BYTES)
                except zlib.error as error:
                    raise InvalidInput("not a valid gzip file ({error})",
                                       file=filename, error=error) from None
                pending = decompressor.unconsumed_tail
                written += len(output)
                _check_expansion(written, consumed, filename, settings)
                unpacked.write(output)
                if decompressor.eof:
                    break
            progress.report(consumed / max(packed_size, 1))
        if not decompressor.eof:
            raise InvalidInput("the gzip file is truncated or damaged", file=filename)


def check_zip_archive(path: Path, filename: str, settings: Settings) -> None:
    """Refuse a zip (xlsx) whose members unpack beyond the limits."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked_size = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        raise InvalidInput("the file is a damaged zip/xlsx archive", file=filename) from None
    _check_expansion(unpacked_size, path.stat().st_size, filename, settings)
