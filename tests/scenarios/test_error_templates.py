"""Error messages of the scenarios are translatable templates (issue 4): each error is raised
with a literal English template (or one marked ``N_``) whose ``{fields}`` are its keyword
arguments, the template is in the extracted catalogue, and the English text is unchanged.
``checked_templates`` serves tests/mobility too."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from bylab.errors import BylabError, NotFound
from bylab.scenarios.spec import preset_show, preset_texts
from bylab.web.i18n import BRACE_FIELD, extracted_catalog

LOCATION_ARGUMENTS = {"file", "row", "field"}  # where the input was bad, not template fields


@dataclass(frozen=True)
class ErrorCall:
    """One construction of an error class: where it is and the templates it may get."""

    where: str
    templates: tuple[str, ...]  # empty: the message is computed (not extractable)
    fields: frozenset[str]  # its keyword arguments that fill template fields


def error_class_names(package: str) -> set[str]:
    """bylab.errors' classes and the package's own subclasses of them."""
    names = {cls.__name__ for cls in _subclasses(BylabError)} | {BylabError.__name__}
    root = importlib.import_module(package)
    for module_info in pkgutil.walk_packages(root.__path__, f"{package}."):
        module = importlib.import_module(module_info.name)
        names |= {name for name, value in inspect.getmembers(module, inspect.isclass)
                  if issubclass(value, BylabError)}
    return names


def _subclasses(cls: type) -> list[type]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *_subclasses(direct))]


def error_templates(package: str) -> list[ErrorCall]:
    """Every construction of an error class in the modules of ``package``."""
    names = error_class_names(package)
    folder = Path(importlib.import_module(package).__path__[0])
    return [call for path in sorted(folder.rglob("*.py")) for call in _calls_in(path, names)]


def _calls_in(path: Path, names: set[str]) -> list[ErrorCall]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    marked_tables = _marked_tables(tree)
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and node.args
                and getattr(node.func, "id", getattr(node.func, "attr", "")) in names):
            fields = frozenset(keyword.arg for keyword in node.keywords
                               if keyword.arg and keyword.arg not in LOCATION_ARGUMENTS)
            calls.append(ErrorCall(f"{path.name}:{node.lineno}",
                                   _templates_of(node.args[0], marked_tables), fields))
    return calls


def _marked_tables(tree: ast.Module) -> dict[str, tuple[str, ...]]:
    """Module-level dicts whose values are all ``N_("...")``: name → those templates."""
    tables = {}
    for statement in tree.body:
        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and isinstance(statement.value, ast.Dict)):
            marked = [_marked(value) for value in statement.value.values]
            if marked and all(text is not None for text in marked):
                tables[statement.targets[0].id] = tuple(text for text in marked if text)
    return tables


def _marked(node: ast.expr) -> str | None:
    if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "N_" and node.args
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
        return node.args[0].value
    return None


def _templates_of(message: ast.expr, marked_tables: dict[str, tuple[str, ...]]
                  ) -> tuple[str, ...]:
    if isinstance(message, ast.Constant) and isinstance(message.value, str):
        return (message.value,)
    if (marked := _marked(message)) is not None:
        return (marked,)
    if isinstance(message, ast.Subscript) and isinstance(message.value, ast.Name):
        return marked_tables.get(message.value.id, ())
    return ()


def template_problems(calls: list[ErrorCall]) -> list[str]:
    """The error constructions a page could not translate, or that would fail when raised."""
    problems = []
    for call in calls:
        if not call.templates:
            problems.append(f"{call.where}: the message is computed, not a template")
        for template in call.templates:
            fields = set(BRACE_FIELD.findall(template))
            if fields != call.fields:
                problems.append(f"{call.where}: fields {sorted(fields)} but keyword arguments "
                                f"{sorted(call.fields)}")
    return problems


@cache
def extracted_messages() -> frozenset[str]:
    return frozenset(message.id for message in extracted_catalog() if isinstance(message.id, str))


def checked_templates(package: str) -> set[str]:
    """The message templates of ``package``'s errors, once each error is found to be raised
    with a literal template of its fields and the template to be in the catalogue."""
    calls = error_templates(package)
    assert template_problems(calls) == []
    templates = {template for call in calls for template in call.templates}
    assert templates - extracted_messages() == set()
    return templates


def test_scenario_errors_are_catalogued_templates_with_their_fields() -> None:
    templates = checked_templates("bylab.scenarios")
    assert len(templates) >= 25
    assert {"no preset '{name}' (presets: {presets})",
            "the horizon {horizon} must be after the start year {start}"} <= templates


def test_a_computed_message_and_a_missing_field_are_reported(tmp_path: Path) -> None:
    source = tmp_path / "bad.py"
    source.write_text('raise NotFound(f"no lever {key}", field="levers")\n'
                      'raise InvalidInput("hour {hour} is not 0-23", field="hour")\n')
    calls = _calls_in(source, {"NotFound", "InvalidInput"})
    assert [call.templates for call in calls] == [(), ("hour {hour} is not 0-23",)]
    assert template_problems(calls) == [
        "bad.py:1: the message is computed, not a template",
        "bad.py:2: fields ['hour'] but keyword arguments []"]


def test_an_unknown_preset_keeps_its_english_text_and_names_its_template() -> None:
    with pytest.raises(NotFound) as raised:
        preset_show("nowhere")
    presets = ", ".join(preset_texts())
    assert raised.value.message == f"no preset 'nowhere' (presets: {presets})"
    assert raised.value.message_id == "no preset '{name}' (presets: {presets})"
    assert raised.value.field == "preset"
    norwegian = {"no preset '{name}' (presets: {presets})":
                 "ingen forhåndsvalg '{name}' (forhåndsvalg: {presets})"}
    shown = raised.value.in_language(lambda text: norwegian.get(text, text))
    assert shown.message == f"ingen forhåndsvalg 'nowhere' (forhåndsvalg: {presets})"
