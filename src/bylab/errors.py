"""Typed errors raised by actions. HTTP and CLI map them to responses in one place each.

Translatable messages: an error's message is an English template with ``{name}`` fields and
the values as keyword arguments, ``NotFound("no place with id '{place}'", place=place_id)``.
The error classes are extraction keywords (``bylab.web.i18n.KEYWORDS``), so a literal message
is in the catalogues as it stands. ``message`` is the English text (API bodies, CLI, logs);
``message_id`` (the template) is the stable id of the message; pages show the error through
``in_language`` in the reader's language, numbers written as that language does (a field with a
number format, ``{size:,}`` or ``{total:g}``, and any float: "12 345 678" in nb). A plain string
without keyword arguments is shown as it is (when it is a catalogued sentence, translated too).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from copy import copy
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from bylab.web.i18n import N_, SOURCE_LANGUAGE, format_number

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
        self._language = SOURCE_LANGUAGE

    def in_language(self, translate: Translate, language: str = SOURCE_LANGUAGE) -> BylabError:
        """The same error with its message and location in the language of ``translate``
        (a gettext), its numbers written as ``language`` does; a translation whose fields do
        not match the template's falls back to English."""
        shown = copy(self)
        shown.message = _translated(translate, self.message_id, self.params, language)
        shown._translate = translate
        shown._language = language
        return shown

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(_translated(self._translate, ROW_TEMPLATE, {"row": self.row},
                                     self._language))
        if self.field:
            parts.append(_translated(self._translate, FIELD_TEMPLATE, {"field": self.field},
                                     self._language))
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


def _filled(template: str, params: dict[str, object],
            language: str = SOURCE_LANGUAGE) -> str:
    """``template`` with its ``{name}`` fields filled (numbers as ``language`` writes them;
    English as Python does); a plain message (no parameters) is returned as it is, braces
    and all."""
    if not params:
        return template
    if language == SOURCE_LANGUAGE:
        return template.format(**params)
    return _LocalNumbers(language).format(template, **params)


def _translated(translate: Translate, template: str, params: dict[str, object],
                language: str = SOURCE_LANGUAGE) -> str:
    """The template in the language of ``translate``, filled; English when the translation's
    fields do not match the template's."""
    try:
        return _filled(translate(template), params, language)
    except (KeyError, IndexError, ValueError):
        return _filled(template, params, language)


class _LocalNumbers(string.Formatter):
    """Fills a template as ``str.format`` does, but writes a number with a format spec
    (``{size:,}``, ``{total:g}``) or a float with the language's separators. An int
    without a spec is left as it is: it is often an id, a year or a row."""

    def __init__(self, language: str) -> None:
        super().__init__()
        self.language = language

    def format_field(self, value: object, format_spec: str) -> str:
        shown = super().format_field(value, format_spec)
        if not _is_number(value) or "%" in format_spec or not (format_spec or isinstance(value, float)):
            return shown
        return _number_in_language(shown, self.language)


def _number_in_language(english: str, language: str) -> str:
    """A number as Python wrote it ("12,345,678", "0.25", "1e+06") in ``language``, with
    the same decimals; anything else (nan, inf) as it is."""
    try:
        number = Decimal(english.strip().replace(",", "").replace("_", ""))
    except InvalidOperation:
        return english
    if not number.is_finite():
        return english
    exponent = number.as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    sign = "+" if english.strip().startswith("+") else ""
    return sign + format_number(float(number), language, decimals)


# The words of a location (listed for the catalogues in bylab.web.i18n's vocabularies).
ROW_TEMPLATE = "row {row}"
FIELD_TEMPLATE = "field '{field}'"


# bylab's templates for pydantic's common error types (its own texts are English only):
# error type -> (template, the key of pydantic's context that fills {limit}, if any).
PYDANTIC_MESSAGES: dict[str, tuple[str, str | None]] = {
    "missing": (N_("is required"), None),
    "string_too_short": (N_("must be at least {limit:,} characters"), "min_length"),
    "string_too_long": (N_("must be at most {limit:,} characters"), "max_length"),
    "too_short": (N_("must have at least {limit:,} items"), "min_length"),
    "too_long": (N_("must have at most {limit:,} items"), "max_length"),
    "greater_than": (N_("must be more than {limit:,}"), "gt"),
    "greater_than_equal": (N_("must be at least {limit:,}"), "ge"),
    "less_than": (N_("must be less than {limit:,}"), "lt"),
    "less_than_equal": (N_("must be at most {limit:,}"), "le"),
    "int_parsing": (N_("must be a whole number"), None),
    "int_from_float": (N_("must be a whole number"), None),
    "int_type": (N_("must be a whole number"), None),
    "float_parsing": (N_("must be a number"), None),
    "float_type": (N_("must be a number"), None),
    "bool_parsing": (N_("must be true or false"), None),
    "date_parsing": (N_("must be a date (YYYY-MM-DD)"), None),
    "date_from_datetime_parsing": (N_("must be a date (YYYY-MM-DD)"), None),
    "string_type": (N_("must be text"), None),
    "extra_forbidden": (N_("is not a known field"), None),
}


def invalid_input_from(error: ValidationError, file: str | None = None) -> InvalidInput:
    """The first problem pydantic found, as an InvalidInput naming the field: a bylab
    template for the common types (PYDANTIC_MESSAGES), else pydantic's English text."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    template, limit_key = PYDANTIC_MESSAGES.get(first["type"], (None, None))
    limit = first.get("ctx", {}).get(limit_key) if limit_key else None
    if template and not limit_key:
        return InvalidInput(template, file=file, field=field)
    if template and _is_number(limit):
        return InvalidInput(template, file=file, field=field, limit=limit)
    message = str(first["msg"]).removeprefix("Value error, ")
    return InvalidInput(message, file=file, field=field)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
