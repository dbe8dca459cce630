"""Receiving an uploaded file: a multipart/form-data body streamed to a staging file while
its bytes are counted, so an upload over the limit is refused as soon as it passes it and
never fills the disk. Text fields are kept in memory (small, bounded)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from bylab.errors import InvalidInput, TooLarge

MAX_TEXT_FIELD_BYTES = 1024 * 1024
FILE_FIELD = "file"


@dataclass
class ReceivedForm:
    """Text fields by name, and the uploaded file (staged under the uploads folder)."""

    fields: dict[str, str] = field(default_factory=dict)
    file_path: Path | None = None
    filename: str | None = None

    def discard(self) -> None:
        """Remove the staged file."""
        if self.file_path is not None:
            self.file_path.unlink(missing_ok=True)


class _FormReceiver:
    """python-multipart callbacks that stage the ``file`` part and collect text parts."""

    def __init__(self, folder: Path, max_file_bytes: int) -> None:
        self.folder = folder
        self.max_file_bytes = max_file_bytes
        self.form = ReceivedForm()
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._text = bytearray()
        self._file: BinaryIO | None = None
        self._file_bytes = 0
        self._part_name = ""

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._add_header_name(data[start:end]),
            "on_header_value": lambda data, start, end: self._add_header_value(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": lambda data, start, end: self._part_data(data[start:end]),
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._disposition = b""
        self._text = bytearray()

    def _add_header_name(self, chunk: bytes) -> None:
        self._header_name += chunk

    def _add_header_value(self, chunk: bytes) -> None:
        self._header_value += chunk

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _kind, options = parse_options_header(self._disposition)
        self._part_name = options.get(b"name", b"").decode("utf-8", "replace")
        if self._part_name == FILE_FIELD:
            if self.form.file_path is not None:
                raise InvalidInput("send one file per request", field=FILE_FIELD)
            raw_name = options.get(b"filename", b"upload").decode("utf-8", "replace")
            self.form.filename = os.path.basename(raw_name.replace("\\", "/")) or "upload"
            descriptor, name = tempfile.mkstemp(dir=self.folder, prefix="upload-")
            self.form.file_path = Path(name)
            self._file = os.fdopen(descriptor, "wb")

    def _part_data(self, chunk: bytes) -> None:
        if self._file is None:
            if len(self._text) + len(chunk) > MAX_TEXT_FIELD_BYTES:
                raise TooLarge("form field too large", field=self._part_name)
            self._text += chunk
            return
        self._file_bytes += len(chunk)
        if self._file_bytes > self.max_file_bytes:
            raise TooLarge("the upload is over the limit of {limit:,} bytes",
                           file=self.form.filename, limit=self.max_file_bytes)
        self._file.write(chunk)

    def _part_end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        elif self._part_name:
            self.form.fields[self._part_name] = self._text.decode("utf-8", "replace")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


async def receive_form(body: AsyncIterator[bytes], content_type: str, folder: Path,
                       max_file_bytes: int) -> ReceivedForm:
    """Parse a multipart/form-data body. On any error the staged file is removed."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidInput("send multipart/form-data with a 'file' part", field=FILE_FIELD)
    folder.mkdir(parents=True, exist_ok=True)
    receiver = _FormReceiver(folder, max_file_bytes)
    parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as error:
        receiver.close()
        receiver.form.discard()
        raise InvalidInput("malformed multipart body: {error}", error=error) from None
    except BaseException:
        receiver.close()
        receiver.form.discard()
        raise
    return receiver.form
