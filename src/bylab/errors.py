"""Typed errors raised by actions. HTTP and CLI map them to responses in one place each."""

from __future__ import annotations

from pydantic import ValidationError


class BylabError(Exception):
    """Base error. ``file``, ``row`` and ``field`` say where bad input was found."""

    status_code = 400
    ckan_type = "Validation Error"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.row = row
        self.field = field

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"message": self.message}
        for key in ("file", "row", "field"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        return body


class InvalidInput(BylabError):
    """Bad input: a file, a form field or a parameter."""


class NotFound(BylabError):
    status_code = 404
    ckan_type = "Not Found Error"


class NotAuthorized(BylabError):
    """The actor may not do this (or is not logged in)."""

    status_code = 403
    ckan_type = "Authorization Error"


class Conflict(BylabError):
    """The thing exists already (duplicate name) or the state forbids the change."""

    status_code = 409
    ckan_type = "Validation Error"


class TooLarge(InvalidInput):
    status_code = 413


def invalid_input_from(error: ValidationError, file: str | None = None) -> InvalidInput:
    """The first problem pydantic found, as an InvalidInput naming the field."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    message = str(first["msg"]).removeprefix("Value error, ")
    return InvalidInput(message, file=file, field=field)
