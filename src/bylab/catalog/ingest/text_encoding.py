"""Which encoding a text file is in, and transcoding to UTF-8 in chunks.

Files exported in the Nordics and Poland come as UTF-8 (with or without BOM), Windows-1252
(Western) or Windows-1250 / ISO-8859-2 (Central European). charset-normalizer alone often
calls a Norwegian cp1252 file cp1250 ('Ålesund' → 'Ĺlesund' is plausible to it), so a simple
rule decides first: which decoding yields more letters of the languages we expect.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from charset_normalizer import from_bytes

from bylab.catalog.ingest.progress import ByteProgress
from bylab.errors import InvalidInput

UTF8 = "utf-8"
CANDIDATES = ("cp1252", "cp1250", "iso8859_2")
NORDIC_LETTERS = set("åäöæøÅÄÖÆØ")
POLISH_LETTERS = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
CHUNK_BYTES = 4 * 1024 * 1024


def is_utf8_sample(sample: bytes, complete: bool) -> bool:
    """Whether the sample decodes as UTF-8 (an incomplete last character is allowed when the
    sample is cut from a longer file)."""
    decoder = codecs.getincrementaldecoder(UTF8)()
    try:
        decoder.decode(sample, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(sample: bytes, complete: bool) -> str:
    """The encoding of a text file, judged from its first bytes."""
    if sample.startswith(codecs.BOM_UTF8) or is_utf8_sample(sample, complete):
        return UTF8
    scores = {encoding: _letter_score(sample, encoding) for encoding in CANDIDATES}
    best = max(CANDIDATES, key=lambda encoding: scores[encoding])
    if scores[best] > 0:
        return best
    guess = from_bytes(sample[:256 * 1024], cp_isolation=list(CANDIDATES)).best()
    return guess.encoding if guess else "cp1252"


def _letter_score(sample: bytes, encoding: str) -> int:
    text = sample.decode(encoding, errors="replace")
    expected = POLISH_LETTERS if encoding != "cp1252" else NORDIC_LETTERS
    score = sum(1 for char in text if char in expected)
    if encoding == "iso8859_2" and any(0x80 <= byte <= 0x9F for byte in sample):
        return -1  # C1 control bytes do not occur in ISO-8859-2 text; they are cp125x letters
    return score


def transcode_to_utf8(source: Path, target: Path, encoding: str, filename: str,
                      progress: ByteProgress) -> None:
    """Rewrite ``source`` as UTF-8, chunk by chunk. A byte the encoding cannot decode is
    reported with its offset and line."""
    decoder = codecs.getincrementaldecoder(encoding)()
    total = max(source.stat().st_size, 1)
    offset = lines_before = 0
    with open(source, "rb") as raw, open(target, "w", encoding=UTF8, newline="") as text:
        while chunk := raw.read(CHUNK_BYTES):
            try:
                text.write(decoder.decode(chunk))
            except UnicodeDecodeError as error:
                line = lines_before + chunk.count(b"\n", 0, error.start) + 1
                raise undecodable(filename, offset + error.start, line, encoding) from None
            offset += len(chunk)
            lines_before += chunk.count(b"\n")
            progress.report(offset / total)
        text.write(decoder.decode(b"", final=True))


def undecodable(filename: str, byte_offset: int, line: int, encoding: str) -> InvalidInput:
    return InvalidInput(
        "byte offset {offset} (line {line}) cannot be decoded as {encoding}; save the file as "
        "UTF-8", file=filename, row=line, offset=byte_offset, line=line, encoding=encoding)


def first_bad_utf8_byte(path: Path, line_start: int) -> int:
    """The offset of the first byte from ``line_start`` that is not valid UTF-8."""
    with open(path, "rb") as raw:
        raw.seek(line_start)
        line = raw.read(CHUNK_BYTES)
    try:
        line.decode(UTF8)
    except UnicodeDecodeError as error:
        return line_start + error.start
    return line_start
