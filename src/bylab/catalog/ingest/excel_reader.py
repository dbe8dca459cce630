"""Excel .xlsx → Parquet: the first sheet (or a named one), its first non-empty row as header."""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
from openpyxl import load_workbook

from bylab.catalog.ingest.column_names import checked_column_names
from bylab.catalog.ingest.formats import OLE_MAGIC, ZIP_MAGIC, head_bytes
from bylab.catalog.ingest.limits import check_zip_archive
from bylab.catalog.ingest.typed_columns import ColumnValues, columns_table
from bylab.errors import InvalidInput
from bylab.settings import Settings
from bylab.storage.tables import sql_string


def check_is_xlsx(path: Path, filename: str) -> None:
    """Refuse files that only carry an Excel name: HTML pages and CSV text that web systems
    export as "Excel", and the old binary .xls format."""
    head = head_bytes(path, 2048)
    if head.startswith(ZIP_MAGIC):
        with zipfile.ZipFile(path) as archive:
            if "xl/workbook.xml" in archive.namelist():
                return
        raise InvalidInput("the file is a zip archive, not an Excel workbook", file=filename)
    if head.startswith(OLE_MAGIC):
        raise InvalidInput("this is the old Excel 97-2003 (.xls) format: open it in Excel or "
                           "LibreOffice and save it as .xlsx or .csv", file=filename)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml", b"<")):
        raise InvalidInput("the file is an HTML/XML page with an Excel name, not a workbook: "
                           "save it from Excel as .xlsx, or export CSV", file=filename)
    raise InvalidInput("the file is text (CSV?) with an Excel name, not a workbook: rename "
                       "it to .csv and publish it again", file=filename)


def xlsx_to_parquet(connection: duckdb.DuckDBPyConnection, source: Path, target: Path,
                    filename: str, settings: Settings, sheet: str | None) -> dict[str, str]:
    """Write the sheet to ``target`` as Parquet. Returns warnings by column name."""
    check_is_xlsx(source, filename)
    check_zip_archive(source, filename, settings)
    # A file object, not a path: openpyxl judges paths by their suffix, and staged uploads
    # have none.
    with open(source, "rb") as workbook_file:
        workbook = load_workbook(workbook_file, read_only=True, data_only=True)
        try:
            columns = _read_sheet(_worksheet(workbook, sheet, filename), filename, settings)
        finally:
            workbook.close()
    table, warnings = columns_table(columns)
    connection.register("sheet_table", table)
    connection.execute(f"COPY sheet_table TO {sql_string(str(target))} (FORMAT parquet)")
    connection.unregister("sheet_table")
    return warnings


def _worksheet(workbook, sheet: str | None, filename: str):  # noqa: ANN001, ANN202
    if sheet is None:
        return workbook.worksheets[0]
    if sheet not in workbook.sheetnames:
        raise InvalidInput("no sheet '{sheet}'; the sheets are {sheetnames}",
                           file=filename, field="sheet", sheet=sheet,
                           sheetnames=workbook.sheetnames)
    return workbook[sheet]


def _read_sheet(worksheet, filename: str, settings: Settings) -> list[ColumnValues]:  # noqa: ANN001
    columns: list[ColumnValues] = []
    header_row = 0
    for row_number, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if not any(_present(cell) for cell in cells):
            continue
        if not columns:
            header_row = row_number
            columns = [ColumnValues(name) for name in
                       checked_column_names(_header_names(cells), filename, settings.max_columns)]
            continue
        _append_row(columns, cells, row_number, filename)
    if not columns:
        raise InvalidInput("the sheet is empty", file=filename, row=1)
    if not columns[0].values:
        raise InvalidInput("the sheet has a header row but no data rows", file=filename,
                           row=header_row + 1)
    return columns


def _header_names(cells: tuple[object, ...]) -> list[str]:
    names = ["" if cell is None else str(cell) for cell in cells]
    while names and not names[-1].strip():
        names.pop()
    return names


def _append_row(columns: list[ColumnValues], cells: tuple[object, ...], row_number: int,
                filename: str) -> None:
    extra = [cell for cell in cells[len(columns):] if _present(cell)]
    if extra:
        raise InvalidInput("row {row_number} has values beyond the last named column",
                           file=filename, row=row_number, row_number=row_number)
    for index, column in enumerate(columns):
        value = cells[index] if index < len(cells) else None
        column.values.append(None if not _present(value) else value)
        column.rows.append(row_number)


def _present(cell: object) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())
