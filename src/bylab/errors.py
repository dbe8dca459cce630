"""Typed errors raised by actions. HTTP and CLI map them to responses in one place each.

Translatable messages: an error's message is an English template with ``{name}`` fields and
the values as keyword arguments, ``NotFound("no place with id '{place}'", place=place_id)``.
The error classes are extraction keywords (``bylab.web.i18n.KEYWORDS``), so a literal message
is in the catalogues as it stands. ``message`` is the English text (API bodies, CLI, logs);
``message_id`` (the template) is the stable id of the message; pages show the error through
``in_language`` in the reader's language. A plain string without keyword arguments is shown as
it is (when it is a catalogued sentence, translated too).
"""

from __future__ import annotations

from collections.abc import Callable
from copy import copy

from pydantic import ValidationError

Translate = Callable[[str], str]


def _english(text: str) -> str:
    return text


class BylabError(Exception):
    """Base error. ``file``, ``row`` and ``field`` say where bad input was found; other
    keyword arguments fill the ``{name}`` fields of the message template."""

    status_code = 400
    ckan_type = "Validation Error"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        **params: object,
    ) -> None:
        self.message_id = message
        self.params = params
        self.message = _filled(message, params)
        super().__init__(self.message)
        self.file = file
        self.row = row
        self.field = field
        self._translate: Translate = _english

    def in_language(self, translate: Translate) -> BylabError:
        """The same error with its message and location in the language of ``translate``
        (a gettext); a translation whose fields do not match the template's falls back to
        English."""
        shown = copy(self)
        shown.message = _translated(translate, self.message_id, self.params)
        shown._translate = translate
        return shown

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(_translated(self._translate, ROW_TEMPLATE, {"row": self.row}))
        if self.field:
            parts.append(_translated(self._translate, FIELD_TEMPLATE, {"field": self.field}))
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"message": self.message, "message_id": self.message_id}
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


def _filled(template: str, params: dict[str, object]) -> str:
    """``template`` with its ``{name}`` fields filled; a plain message (no parameters) is
    returned as it is, braces and all."""
    return template.format(**params) if params else template


def _translated(translate: Translate, template: str, params: dict[str, object]) -> str:
    """The template in the language of ``translate``, filled; English when the translation's
    fields do not match the template's."""
    try:
        return _filled(translate(template), params)
    except (KeyError, IndexError, ValueError):
        return _filled(template, params)


# The words of a location (listed for the catalogues in bylab.web.i18n's vocabularies).
ROW_TEMPLATE = "row {row}"
FIELD_TEMPLATE = "field '{field}'"


def invalid_input_from(error: ValidationError, file: str | None = None) -> InvalidInput:
    """The first problem pydantic found, as an InvalidInput naming the field."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    message = str(first["msg"]).removeprefix("Value error, ")
    return InvalidInput(message, file=file, field=field)
