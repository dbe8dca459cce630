"""Checks on a table's column names: how many, none empty twice, no duplicates."""

from __future__ import annotations

from bylab.errors import InvalidInput


def checked_column_names(names: list[str], filename: str, max_columns: int) -> list[str]:
    """Trimmed names; an unnamed column becomes ``column_<n>``. Duplicate names (compared
    without case, as SQL does) and more than ``max_columns`` columns are refused."""
    if len(names) > max_columns:
        raise InvalidInput("the table has {count} columns; the limit is {limit}",
                           file=filename, row=1, count=len(names), limit=max_columns)
    cleaned = [name.strip() or f"column_{position}" for position, name in
               enumerate(names, start=1)]
    seen: dict[str, int] = {}
    for position, name in enumerate(cleaned, start=1):
        key = name.casefold()
        if key in seen:
            raise InvalidInput(
                "columns {first} and {position} are both named '{name}'; column names must be "
                "unique", file=filename, row=1, field=name, first=seen[key], position=position,
                name=name)
        seen[key] = position
    return cleaned
