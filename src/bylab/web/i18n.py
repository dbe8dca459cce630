"""The UI in English, Norwegian bokmål, Swedish and Polish: message catalogues, locale-aware
formatting for templates, and the tool that keeps the catalogues complete.

Marking text
    Templates: ``{{ _("Log in") }}``. With values, translate first and format after, so the
    translator sees the placeholders: ``{{ _("Page %(page)d of %(pages)d")|format(page=page,
    pages=last_page) }}``; plurals: ``{{ ngettext("%(num)d dataset", "%(num)d datasets",
    count)|format(num=count) }}``. Python text that a template shows later through
    ``_(variable)`` is marked with ``N_("...")`` from this module (a no-op the extractor finds).
    Text a template translates from a vocabulary (an enum, a label dict) is listed in
    ``_vocabulary_messages`` below so it is extracted too. Translating in Python (a PDF, an
    export): ``translations_for(language_of(request)).gettext("...")``.

    Error messages: the classes of ``bylab.errors`` are extraction keywords, so their first
    argument is a message when it is a literal. Put values in as named fields, not with an
    f-string: ``NotFound("no dataset '{name}'", field="id", name=name)``; a page shows the
    translated template filled with the values (``BylabError.in_language``, called by
    ``render``), the API and the CLI the English text. Numbers come out as the page's language
    writes them (``{size:,}`` → 12 345 678 in nb), so give a number a format spec or pass a
    float; an int without one (an id, a year) is left as it is. A list of codes goes in as
    "must be one of: {choices}" joined with ", ", never with English words. ``check`` also
    reports a translation whose ``{fields}`` differ from its template's.

    Text held in a variable, which may be empty (a unit label): ``{{ unit|translated }}``.

Formatting numbers and dates (filters, in the page's language; ``None`` shows as "–")
    ``{{ value|number }}``        1,234.5 (en) · 1 234,5 (nb, sv, pl): the locale's decimal and
                                  grouping separators, up to 3 decimals
    ``{{ value|number(1) }}``     exactly 1 decimal (``number(0)`` for whole numbers)
    ``{{ share|percent }}``       a share as a percentage: 0.254 → 25% (en, pl), 25 % (nb, sv)
    ``{{ share|percent(1) }}``    with 1 decimal: 25.4%, 25,4 %
    ``{{ when|date }}``           22 Nov 2026 · 22. nov. 2026 · 22 nov. 2026 · 22 lis 2026
    ``{{ when|date("short") }}``  also "long", "full", or a CLDR pattern such as "MMMM y"
    ``{{ when|datetime }}``       date and time (24-hour clock), in UTC as bylab stores them
    In Python: ``format_number(value, language, digits)``, ``format_share``, ``format_day``,
    ``format_moment``; the page's language is ``language_of(request)`` (bylab.web.templating).
    Front-end code formats with ``Intl.NumberFormat(document.documentElement.lang)``.

Keeping the catalogues complete (run from the repository root)
    ``python -m bylab.web.i18n extract``  write ``locale/bylab.pot`` from ``babel.cfg``'s sources
    ``python -m bylab.web.i18n update``   extract, then merge into ``locale/<lang>/LC_MESSAGES/
                                          bylab.po`` (translate the new empty entries there)
    ``python -m bylab.web.i18n check``    exit 1 listing every message not translated (or fuzzy,
                                          or with mismatched placeholders) in nb, sv or pl
    The ``.po`` files are compiled in memory when first used, so no ``.mo`` file is committed.
"""

from __future__ import annotations

import ast
import gettext
import io
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from copy import copy
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import typer
from babel.core import Locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_python
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.numbers import NumberPattern
from jinja2 import pass_context
from jinja2.runtime import Context

LANGUAGES = {"en": "English", "nb": "Norsk bokmål", "sv": "Svenska", "pl": "Polski"}
SOURCE_LANGUAGE = "en"  # msgids are English: it needs no catalogue
TRANSLATED_LANGUAGES = tuple(code for code in LANGUAGES if code != SOURCE_LANGUAGE)
DOMAIN = "bylab"
LOCALE_DIR = Path(__file__).parent / "locale"
TEMPLATE_PATH = LOCALE_DIR / f"{DOMAIN}.pot"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/bylab: babel.cfg's paths start here
MAPPING_FILE = PACKAGE_DIR.parents[1] / "babel.cfg"
# Babel's usual gettext names, the catalogue pages' flash helper, whose 2nd argument is the
# message shown (translated) on the next page, and bylab.errors' classes, whose 1st argument is
# the message template a page shows translated (BylabError.in_language).
ERROR_CLASSES = ("BylabError", "InvalidInput", "NotFound", "NotAuthorized", "Conflict",
                 "TooLarge")
KEYWORDS = {**DEFAULT_KEYWORDS, "_flash": (2,), **{name: (1,) for name in ERROR_CLASSES}}
PYTHON_EXTRACTOR = "bylab.web.i18n:extract_python_messages"  # babel.cfg's "python", checked
MISSING = "–"
VOCABULARY = "vocabulary:"  # marks messages added from _vocabulary_messages
PLACEHOLDER = re.compile(r"%(\(\w+\))?[-#0+]?\d*(\.\d+)?[sdifgr]")
BRACE_FIELD = re.compile(r"(?<!\{)\{(\w+)[^{}]*\}")  # {place}, {count:,}; not {{literal}}


def N_(message: str) -> str:  # noqa: N802 (the conventional gettext_noop name)
    """Mark ``message`` for extraction without translating it now (a template translates it)."""
    return message


# The EU frequency codes of the catalogue (bylab.catalog.metadata.FREQUENCIES) as people
# read them; a template shows ``_(frequency_labels[code])``.
FREQUENCY_LABELS = {
    "ANNUAL": N_("annual"), "QUARTERLY": N_("quarterly"), "MONTHLY": N_("monthly"),
    "WEEKLY": N_("weekly"), "DAILY": N_("daily"), "HOURLY": N_("hourly"),
    "CONT": N_("continuous"), "IRREG": N_("irregular"), "NEVER": N_("never"),
    "UNKNOWN": N_("unknown"), "OTHER": N_("other"),
}


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations_for(language: str) -> gettext.NullTranslations:
    """The UI translations for ``language``, compiled in memory from its ``.po`` file once per
    process; English (and an unknown language) gets the msgids themselves."""
    path = po_path(language)
    if language not in TRANSLATED_LANGUAGES or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out: they show in English
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


# ---- formatting in a language (for templates: the filters below) -------------------------

def format_number(value: float | None, language: str, digits: int | None = None) -> str:
    """``value`` with the language's separators; ``digits`` fixes the decimals (else up to 3)."""
    if value is None:
        return MISSING
    return _number_pattern(language, digits).apply(value, _format_locale(language))


def format_share(share: float | None, language: str, digits: int = 0) -> str:
    """A share (0.25) as a percentage in the language (25%, 25 %)."""
    if share is None:
        return MISSING
    return _percent_pattern(language, digits).apply(share, _format_locale(language))


def format_day(value: date | str | None, language: str, style: str = "medium") -> str:
    """A date (or the date of a datetime, or an ISO string) in the language."""
    if value is None:
        return MISSING
    return format_date(_as_date(value), format=style, locale=_format_locale(language))


def format_moment(value: datetime | str | None, language: str, style: str = "medium") -> str:
    """A date and time in the language, in UTC (where bylab stores times)."""
    if value is None:
        return MISSING
    moment = _as_date(value)
    if not isinstance(moment, datetime):
        return format_day(moment, language, style)
    return format_datetime(moment, format=style, tzinfo=UTC,
                           locale=_format_locale(language))


def translated_text(text: str | None, language: str) -> str:
    """A catalogued text held in a variable (a unit label) in ``language``; no text stays
    empty (gettext of "" is the catalogue's header)."""
    return translations_for(language).gettext(text) if text else ""


@cache
def _format_locale(language: str) -> Locale:
    # British English for "en": day-month dates and a 24-hour clock, as in the other three.
    return Locale.parse("en_GB" if language == SOURCE_LANGUAGE else language)


@cache
def _number_pattern(language: str, digits: int | None) -> NumberPattern:
    """The locale's decimal pattern; with ``digits``, exactly that many decimals."""
    pattern = _format_locale(language).decimal_formats[None]
    return pattern if digits is None else _with_decimals(pattern, digits)


@cache
def _percent_pattern(language: str, digits: int) -> NumberPattern:
    return _with_decimals(_format_locale(language).percent_formats[None], digits)


def _with_decimals(pattern: NumberPattern, digits: int) -> NumberPattern:
    """The locale's own pattern (its spacing, its % sign) with exactly ``digits`` decimals."""
    fixed = copy(pattern)
    fixed.frac_prec = (digits, digits)
    return fixed


def _as_date(value: date | str) -> date:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _in_page_language(format_in: Callable[..., str]) -> Callable[..., str]:
    """A template filter that formats in the language of the page being rendered."""

    @pass_context
    def page_filter(context: Context, value: Any, *options: Any) -> str:
        return format_in(value, str(context.get("lang", SOURCE_LANGUAGE)), *options)

    return page_filter


FILTERS: dict[str, Callable[..., str]] = {
    "number": _in_page_language(format_number),
    "percent": _in_page_language(format_share),
    "date": _in_page_language(format_day),
    "datetime": _in_page_language(format_moment),
    "translated": _in_page_language(translated_text),
}


# ---- extraction, update and check ---------------------------------------------------------

def _vocabulary_messages() -> Iterator[tuple[str, str]]:
    """Texts that templates translate from a variable (``_(place.level)``, ``_(label)``),
    which no extractor can see, with where each vocabulary lives."""
    from bylab.auth.models import OrganisationKind, Role
    from bylab.errors import FIELD_TEMPLATE, ROW_TEMPLATE
    from bylab.catalog.metadata import DATA_THEMES
    from bylab.catalog.models import Visibility
    from bylab.catalog.pages import SORT_LABELS, TYPE_LABELS
    from bylab.indicators.actions import kpi_list, method_label
    from bylab.indicators.kpis import DIMENSIONS, u4ssc_kpis
    from bylab.indicators.models import ValueStatus
    from bylab.indicators.specs import Direction, Method
    from bylab.indicators.unit_labels import unit_labels
    from bylab.indicators.routes import UNVERIFIED
    from bylab.mobility.models import RunKind, RunStatus
    from bylab.places.models import ChangeKind, PlaceLevel
    from bylab.places.routes import AREA_NOTE
    from bylab.registry.models import RelationKind, Stage, TargetType
    from bylab.scenarios.levers import LEVERS

    vocabularies: dict[str, list[str]] = {
        "bylab.auth.models.Role": [role.value for role in Role],
        "bylab.auth.models.OrganisationKind": [kind.value for kind in OrganisationKind],
        "bylab.catalog.models.Visibility": [visibility.value for visibility in Visibility],
        "bylab.catalog.metadata.DATA_THEMES": list(DATA_THEMES.values()),
        "bylab.catalog.pages.SORT_LABELS": list(SORT_LABELS.values()),
        "bylab.catalog.pages.TYPE_LABELS": list(TYPE_LABELS.values()),
        "bylab.indicators.actions.method_label": [method_label(m.value) for m in Method],
        "bylab.indicators.kpis (dimensions, subdimensions, categories, kinds)": [
            *DIMENSIONS, *(kpi.subdimension for kpi in u4ssc_kpis()),
            *(kpi.category for kpi in u4ssc_kpis()), *(kpi.kind for kpi in u4ssc_kpis())],
        # Plain strings in the code, shown with "_" as a space:
        "bylab.indicators.actions._kpi_status": ["computed", "missing", "not defined",
                                                 "not mapped"],
        "bylab.indicators.targets.TargetStatus.status": ["met", "on track", "off track",
                                                         "no data"],
        "dashboard/templates/dataset_chart.html (aggregates)": ["sum", "mean", "count"],
        "bylab.dashboard.actions._headline (and the context indicators it names)": [
            "U4SSC KPIs computed",
            *(entry.kpi.name() for entry in kpi_list() if entry.kpi.framework != "U4SSC")],
        "bylab.registry (node types, match reasons, graph relations)": [
            "actor", "place", "domain", "technology", "term", "kpi", "size", "stage",
            "deployed", "owner", "partner", "runs", "funds", "at", "based in", "member of"],
        "bylab.indicators.routes.UNVERIFIED": [UNVERIFIED],
        "bylab.indicators.unit_labels.unit_labels": unit_labels(),
        "bylab.errors.BylabError.location": [ROW_TEMPLATE, FIELD_TEMPLATE],
        "bylab.indicators.specs.Direction (kpi.html shows it with spaces)": [
            direction.value.replace("_", " ") for direction in Direction],
        "bylab.indicators.models.ValueStatus": [status.value for status in ValueStatus],
        "bylab.mobility.models.RunKind": [kind.value for kind in RunKind],
        "bylab.mobility.models.RunStatus": [status.value for status in RunStatus],
        "bylab.places.models.PlaceLevel": [level.value for level in PlaceLevel],
        "bylab.places.models.ChangeKind": [kind.value for kind in ChangeKind],
        "bylab.places.routes.AREA_NOTE": [AREA_NOTE],
        "bylab.registry.models.Stage": [stage.value for stage in Stage],
        "bylab.registry.models.TargetType": [kind.value for kind in TargetType],
        "bylab.registry.models.RelationKind.label": [kind.label for kind in RelationKind],
        "bylab.mobility.runs (phases a run ends in)": [
            "cancelled before it started", "cancelled", "interrupted", "failed", "done"],
        "bylab.scenarios.levers.LEVERS": [text for lever in LEVERS
                                          for text in (lever.title, lever.unit)],
    }
    for source, messages in vocabularies.items():
        for message in messages:
            if message:
                yield message, source


def extract_python_messages(fileobj: BinaryIO, keywords: Mapping[str, Any],
                            comment_tags: Collection[str], options: Mapping[str, Any]
                            ) -> Iterator[tuple[int, str, Any, list[str]]]:
    """Babel's Python extractor, less what it finds in an error whose message is not one
    literal: of an f-string (on Python before 3.12) Babel keeps the parts without a field,
    which are no message."""
    source = fileobj.read()
    computed_lines = _computed_error_message_lines(source)
    for found in extract_python(io.BytesIO(source), keywords, comment_tags, options):
        if found[1] not in ERROR_CLASSES or found[0] not in computed_lines:
            yield found


def _computed_error_message_lines(source: bytes) -> set[int]:
    """The lines of the first arguments of error calls that are not a literal string."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and node.args and _called_name(node)
                in ERROR_CLASSES):
            continue
        message = node.args[0]
        if not (isinstance(message, ast.Constant) and isinstance(message.value, str)):
            lines.update(range(message.lineno, (message.end_lineno or message.lineno) + 1))
    return lines


def _called_name(call: ast.Call) -> str:
    function = call.func
    return getattr(function, "id", None) or getattr(function, "attr", "")


def extracted_catalog() -> Catalog:
    """Every marked UI text of bylab: templates and Python per ``babel.cfg``, plus the
    vocabularies templates translate from variables."""
    with MAPPING_FILE.open(encoding="utf-8") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    method_map = [(pattern, PYTHON_EXTRACTOR if method == "python" else method)
                  for pattern, method in method_map]
    catalog = Catalog(project="bylab", domain=DOMAIN, charset="utf-8",
                      copyright_holder="the bylab contributors")
    for filename, line, message, comments, context in extract_from_dir(
            str(PACKAGE_DIR), method_map, options_map, keywords=KEYWORDS,
            strip_comment_tags=True):
        catalog.add(message, None, [(f"src/bylab/{filename}", line)], auto_comments=comments,
                    context=context)
    for message, source in _vocabulary_messages():
        existing = catalog.get(message)
        if existing is None:
            catalog.add(message, None, auto_comments=[f"{VOCABULARY} {source}"])
        elif f"{VOCABULARY} {source}" not in existing.auto_comments:
            existing.auto_comments.append(f"{VOCABULARY} {source}")
    return catalog


def _write(catalog: Catalog, path: Path) -> None:
    """Write ``catalog``, unless only its header's dates would change (quiet diffs)."""
    rendered = io.BytesIO()
    write_po(rendered, catalog, width=100, sort_output=True, ignore_obsolete=True)
    if path.exists() and _without_dates(path.read_bytes()) == _without_dates(rendered.getvalue()):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(rendered.getvalue())


def _without_dates(po_text: bytes) -> list[bytes]:
    return [line for line in po_text.splitlines()
            if not line.startswith((b'"POT-Creation-Date:', b'"PO-Revision-Date:'))]


def _read(language: str) -> Catalog:
    """A language's catalogue; a new language starts from the template (as ``pybabel init``)."""
    path = po_path(language) if po_path(language).exists() else TEMPLATE_PATH
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language, domain=DOMAIN)
    catalog.fuzzy = False
    return catalog


def extract() -> Catalog:
    """Write the template catalogue (``bylab.pot``) and return it."""
    template = extracted_catalog()
    _write(template, TEMPLATE_PATH)
    return template


def update() -> dict[str, int]:
    """Extract, merge into each language's ``.po``; the number of untranslated messages in each."""
    template = extract()
    missing_by_language = {}
    for language in TRANSLATED_LANGUAGES:
        catalog = _read(language)
        catalog.update(template, no_fuzzy_matching=True)
        _write(catalog, po_path(language))
        missing_by_language[language] = len(missing_translations(catalog))
    return missing_by_language


def _is_translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings) and not message.fuzzy


def missing_translations(catalog: Catalog) -> list[str]:
    """What is wrong in a language's catalogue: untranslated or fuzzy messages, and
    translations whose placeholders differ from the msgid's."""
    untranslated = [message.id for message in catalog
                    if message.id and not _is_translated(message)]  # no id: the header
    problems = [f"untranslated: {msgid!r}" for msgid in untranslated]
    for message, errors in catalog.check():
        if message.id not in untranslated and _has_placeholders(message):
            problems.extend(f"{error}: {message.id!r}" for error in errors)
    problems.extend(f"fields differ from the msgid's: {message.id!r}" for message in catalog
                    if message.id and message.id not in untranslated
                    and not _same_brace_fields(message))
    return problems


def _same_brace_fields(message: Message) -> bool:
    """An error template's translation keeps its ``{name}`` fields (bylab.errors fills them;
    a translation that does not is shown in English)."""
    msgids = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    wanted = {field for msgid in msgids for field in BRACE_FIELD.findall(msgid)}
    return not wanted or all(set(BRACE_FIELD.findall(text or "")) == wanted
                             for text in strings)


def _has_placeholders(message: Message) -> bool:
    """Babel takes any "%" for a placeholder; in "10 % of" (how nb, sv and pl write a
    percentage) it is none, so only real ones (%(name)s, %d) are checked."""
    msgids = message.id if isinstance(message.id, tuple) else (message.id,)
    return any(PLACEHOLDER.search(msgid) for msgid in msgids)


def check() -> dict[str, list[str]]:
    """Every message in the sources, per language, that is not properly translated."""
    template = extracted_catalog()
    problems_by_language = {}
    for language in TRANSLATED_LANGUAGES:
        catalog = _read(language)
        catalog.update(template, no_fuzzy_matching=True)  # in memory: sources are the truth
        problems = missing_translations(catalog)
        if problems:
            problems_by_language[language] = problems
    return problems_by_language


cli = typer.Typer(help="bylab's UI message catalogues (Babel).", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)


@cli.command("extract")
def extract_command() -> None:
    """Extract every marked UI text into locale/bylab.pot."""
    template = extract()
    typer.echo(f"{len(template)} messages → {TEMPLATE_PATH}")


@cli.command("update")
def update_command() -> None:
    """Extract, then merge the new messages into the nb, sv and pl catalogues."""
    for language, missing in update().items():
        typer.echo(f"{language}: {missing} to translate in {po_path(language)}")


@cli.command("check")
def check_command() -> None:
    """Exit 1 listing every message not translated in nb, sv or pl."""
    problems_by_language = check()
    for language, problems in problems_by_language.items():
        for problem in problems:
            typer.echo(f"{language}: {problem}", err=True)
    if problems_by_language:
        raise typer.Exit(1)
    typer.echo(f"all messages translated in {', '.join(TRANSLATED_LANGUAGES)}")


if __name__ == "__main__":
    cli()
