"""Import and export of projects, challenges and solutions as CSV or JSON, so a network can
load its existing project lists.

JSON is a list of objects with the fields of the API's input (``organisation``, ``name``,
``title`` by language, ...). CSV has one row per record: texts by language in ``title_en``,
``title_nb``, ... columns, lists separated by ``;``, partners as ``organisation:role``.
An import is all or nothing: every row is checked (taxonomy terms, place ids, KPI codes,
organisations, the importer's editor role) and the first bad one is named by file, row and
field; records whose name exists already are skipped, so importing again changes nothing.
Relations between actors travel the same way, one per row: ``organisation``, ``relation``
(``member-of``, ``supplier-to``, ...), ``other`` and ``note``; existing ones are skipped.

A project's evidence travels with it: ``budget_amount`` (a decimal number) and
``budget_currency`` (ISO 4217), ``success_factors`` and ``lessons_learned`` (texts by
language; in CSV one ``success_factors_en``, ... column each, one text a line), and
``funding`` and ``results`` as lists of objects (in CSV, a JSON list in the cell). Currencies
and KPI codes are checked like every other field. Documents (files) do not travel."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select

from bylab.auth.models import Organisation
from bylab.core import Context
from bylab.errors import BylabError, InvalidInput
from bylab.registry.actions import (
    ChallengeInput,
    PartnerInput,
    ProjectInput,
    SolutionInput,
    challenge_add,
    project_add,
    solution_add,
)
from bylab.registry.models import (
    ActorRelation,
    Challenge,
    Project,
    ProjectPartner,
    Solution,
    Stage,
)
from bylab.registry.funding import FundingInput, funding_of
from bylab.registry.relations import relation_add_in, relation_kind, relation_list
from bylab.registry.results import ResultInput, results_of
from bylab.registry.taxonomy import LANGUAGES

RecordKind = Literal["project", "challenge", "solution", "relation"]
Format = Literal["csv", "json"]
MODELS: dict[str, type[Project | Challenge | Solution]] = {
    "project": Project, "challenge": Challenge, "solution": Solution}
TEXTS = {"project": ("title", "description"), "challenge": ("title", "needs", "constraints"),
         "solution": ("title", "description")}
TEXT_LISTS = {"project": ("success_factors", "lessons_learned"), "challenge": (),
              "solution": ()}
LISTS = {"project": ("domains", "technologies", "place_ids", "links", "partners"),
         "challenge": ("domains", "kpi_codes"),
         "solution": ("domains", "technologies", "project_ids")}
SCALARS = {"project": ("stage", "as_of", "source", "budget_amount", "budget_currency"),
           "challenge": ("deadline", "as_of", "source"), "solution": ()}
OBJECT_LISTS = {"project": ("funding", "results"), "challenge": (), "solution": ()}
FUNDING_FIELDS = ("funder_organisation", "funder_name", "programme", "amount", "currency",
                  "year_from", "year_to")
RESULT_FIELDS = ("kpi_code", "place_id", "before_period", "after_period", "reported_before",
                 "reported_after", "reported_unit", "reported_source")
RELATION_COLUMNS = ("organisation", "relation", "other", "note")
MAX_IMPORT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ImportReport:
    created: int
    skipped: int  # a record of that name existed already

    def summary(self) -> str:
        return f"created {self.created}, skipped {self.skipped} existing"


def _check_kind(kind: str) -> str:
    if kind not in MODELS and kind != "relation":
        raise InvalidInput("type must be one of {types} or relation", field="type",
                           types=", ".join(MODELS))
    return kind


def _partners(session: Any, project: Project) -> list[dict[str, str]]:
    rows = session.execute(select(Organisation.name, ProjectPartner.role).join(
        ProjectPartner, ProjectPartner.organisation_id == Organisation.id).where(
        ProjectPartner.project_id == project.id).order_by(Organisation.name))
    return [{"organisation": name, "role": role} for name, role in rows]


def _json_number(value: Decimal | None) -> float | None:
    # Amounts are capped so that each cent is exact as a JSON number (a double).
    return None if value is None else float(value)


def _evidence(session: Any, project: Project) -> dict[str, Any]:
    funding = [{"funder_organisation": view.funder_organisation,
                "funder_name": view.line.funder_name if not view.funder_organisation else "",
                "programme": view.line.programme, "amount": _json_number(view.line.amount),
                "currency": view.line.currency, "year_from": view.line.year_from,
                "year_to": view.line.year_to} for view in funding_of(session, project.id)]
    results = [{name: getattr(result, name) for name in RESULT_FIELDS}
               for result in results_of(session, project.id)]
    return {"funding": funding, "results": results}


def _as_dict(session: Any, kind: str, record: Project | Challenge | Solution,
             owners: dict[str, str], project_names: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"organisation": owners[record.organisation_id], "name": record.name}
    for text in (*TEXTS[kind], *TEXT_LISTS[kind]):
        body[text] = getattr(record, text)
    for field_name in LISTS[kind]:
        if field_name == "partners":
            body["partners"] = _partners(session, record)  # type: ignore[arg-type]
        elif field_name == "project_ids":
            body["project_ids"] = [project_names[i] for i in record.project_ids]  # type: ignore[union-attr]
        else:
            body[field_name] = list(getattr(record, field_name))
    for field_name in SCALARS[kind]:
        value = getattr(record, field_name)
        body[field_name] = (value.isoformat() if isinstance(value, date) else
                            _json_number(value) if isinstance(value, Decimal) else value)
    if kind == "project":
        body |= _evidence(session, record)  # type: ignore[arg-type]
    return body


def registry_export(ctx: Context, kind: str, format: Format) -> str:
    """Every record of the kind, by name, as a JSON list or CSV text."""
    kind = _check_kind(kind)
    if kind == "relation":
        return _relations_export(ctx, format)
    with ctx.db.session() as session:
        owners = {org_id: name for org_id, name in session.execute(
            select(Organisation.id, Organisation.name))}
        project_names = {project_id: name for project_id, name in session.execute(
            select(Project.id, Project.name))}
        model = MODELS[kind]
        records = [_as_dict(session, kind, record, owners, project_names)
                   for record in session.scalars(select(model).order_by(model.name))]
    if format == "json":
        return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    if format != "csv":
        raise InvalidInput("format must be csv or json", field="format")
    return _to_csv(kind, records)


def _relations_export(ctx: Context, format: Format) -> str:
    rows = [dict(zip(RELATION_COLUMNS, (view.subject.name, view.kind.value, view.object.name,
                                        view.note), strict=True))
            for view in relation_list(ctx)]
    if format == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if format != "csv":
        raise InvalidInput("format must be csv or json", field="format")
    out = io.StringIO()
    writer = csv.DictWriter(out, RELATION_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _relations_import(ctx: Context, rows: list[tuple[int, dict[str, Any]]], file: str,
                      progress: Callable[[int, int], None] | None) -> ImportReport:
    with ctx.db.session() as session:
        names = {org_id: name for org_id, name in session.execute(
            select(Organisation.id, Organisation.name))}
        existing: set[Any] = {(names[r.subject_id], r.kind, names[r.object_id])
                              for r in session.scalars(select(ActorRelation))}

        def key_of(body: dict[str, Any]) -> tuple[str, str, str]:
            return (str(body.get("organisation") or ""),
                    relation_kind(str(body.get("relation") or "")).value,
                    str(body.get("other") or ""))

        def add(body: dict[str, Any]) -> None:
            subject, kind, other = key_of(body)
            relation_add_in(session, ctx, subject, kind, other, str(body.get("note") or ""))

        return _import_rows(session, rows, file, progress, existing, key_of, add)


def _import_rows(session: Any, rows: list[tuple[int, dict[str, Any]]], file: str,
                 progress: Callable[[int, int], None] | None, existing: set[Any],
                 key_of: Callable[[dict[str, Any]], Any],
                 add: Callable[[dict[str, Any]], None]) -> ImportReport:
    """Add each row whose key is not in ``existing`` (in the caller's transaction); an
    error names the file and row."""
    created = skipped = 0
    for done, (number, body) in enumerate(rows, 1):
        try:
            key = key_of(body)
            if key in existing:
                skipped += 1
            else:
                add(body)
                session.flush()
                existing.add(key)
                created += 1
        except BylabError as error:
            raise type(error)(error.message, file=file, row=number,
                              field=error.field) from None
        if progress:
            progress(done, len(rows))
    return ImportReport(created, skipped)


def _csv_columns(kind: str) -> list[str]:
    return ["organisation", "name",
            *[f"{text}_{lang}" for text in (*TEXTS[kind], *TEXT_LISTS[kind])
              for lang in LANGUAGES],
            *LISTS[kind], *SCALARS[kind], *OBJECT_LISTS[kind]]


def _to_csv(kind: str, records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, _csv_columns(kind), lineterminator="\n")
    writer.writeheader()
    for record in records:
        row = {"organisation": record["organisation"], "name": record["name"]}
        for text in TEXTS[kind]:
            row |= {f"{text}_{lang}": record[text].get(lang, "") for lang in LANGUAGES}
        for text in TEXT_LISTS[kind]:
            row |= {f"{text}_{lang}": "\n".join(record[text].get(lang, []))
                    for lang in LANGUAGES}
        for field_name in OBJECT_LISTS[kind]:
            row[field_name] = json.dumps(record[field_name], ensure_ascii=False)
        for field_name in LISTS[kind]:
            values = record[field_name]
            if field_name == "partners":
                values = [f"{p['organisation']}:{p['role']}" for p in values]
            row[field_name] = ";".join(values)
        row |= {field_name: record[field_name] or "" for field_name in SCALARS[kind]}
        writer.writerow(row)
    return out.getvalue()


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _from_csv_row(kind: str, row: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"organisation": row.get("organisation", ""),
                            "name": row.get("name", "")}
    for text in TEXTS[kind]:
        body[text] = {lang: row[f"{text}_{lang}"] for lang in LANGUAGES
                      if row.get(f"{text}_{lang}", "").strip()}
    for text in TEXT_LISTS[kind]:
        body[text] = {lang: row[f"{text}_{lang}"].splitlines() for lang in LANGUAGES
                      if row.get(f"{text}_{lang}", "").strip()}
    for field_name in OBJECT_LISTS[kind]:
        cell = (row.get(field_name) or "").strip()
        try:
            body[field_name] = json.loads(cell, parse_float=Decimal) if cell else []
        except json.JSONDecodeError:
            raise InvalidInput("give a JSON list of objects in the cell",
                               field=field_name) from None
    for field_name in LISTS[kind]:
        values = _split(row.get(field_name) or "")
        if field_name == "partners":
            body["partners"] = [dict(zip(("organisation", "role"),
                                         (*value.split(":", 1), "")[:2], strict=True))
                                for value in values]
        else:
            body[field_name] = values
    for field_name in SCALARS[kind]:
        if row.get(field_name, "").strip():
            body[field_name] = row[field_name].strip()
    return body


def _rows(text: str, format: Format, file: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number as a person counts it, raw record) of the file."""
    if format == "json":
        try:
            records = json.loads(text, parse_float=Decimal)  # amounts stay exact
        except json.JSONDecodeError as error:
            raise InvalidInput("not JSON: {problem}", file=file, row=error.lineno,
                               problem=error.msg) from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise InvalidInput("give a JSON list of objects", file=file)
        yield from enumerate(records, 1)
    elif format == "csv":
        yield from enumerate(csv.DictReader(io.StringIO(text)), 2)  # the header is row 1
    else:
        raise InvalidInput("format must be csv or json", field="format")


def _date(body: dict[str, Any], field_name: str) -> date | None:
    value = body.get(field_name)
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("'{value}' is not a date (YYYY-MM-DD)", field=field_name,
                           value=value) from None


def _texts(body: dict[str, Any], field_name: str) -> dict[str, str]:
    value = body.get(field_name) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidInput("give texts by language, e.g. {\"en\": \"...\"}", field=field_name)
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise InvalidInput("unknown language '{language}'; use {languages}", field=field_name,
                           language=sorted(unknown)[0], languages=", ".join(LANGUAGES))
    return value


def _strings(body: dict[str, Any], field_name: str) -> list[str]:
    value = body.get(field_name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput("give a list of texts", field=field_name)
    return value


def _text_lists(body: dict[str, Any], field_name: str) -> dict[str, list[str]]:
    value = body.get(field_name) or {}
    if not isinstance(value, dict) or not all(
            isinstance(v, list) and all(isinstance(t, str) for t in v) for v in value.values()):
        raise InvalidInput("give lists of texts by language, e.g. {\"en\": [\"...\"]}",
                           field=field_name)
    return value


def _objects(body: dict[str, Any], field_name: str,
             known: tuple[str, ...]) -> list[dict[str, Any]] | None:
    value = body.get(field_name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidInput("give a list of objects", field=field_name)
    for entry in value:
        unknown = set(entry) - set(known)
        if unknown:
            raise InvalidInput("unknown key {key!r}; use {known}", field=field_name,
                               key=sorted(unknown)[0], known=", ".join(known))
    return value


def _number(value: Any, field_name: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise InvalidInput("give a number", field=field_name)
    try:
        return float(value)
    except ValueError:
        raise InvalidInput("'{text}' is not a number", field=field_name,
                           text=value) from None


def _year(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise InvalidInput("'{text}' is not a year", field="years", text=value)


def _funding(body: dict[str, Any]) -> list[FundingInput] | None:
    entries = _objects(body, "funding", FUNDING_FIELDS)
    return None if entries is None else [FundingInput(
        funder_organisation=str(e.get("funder_organisation") or ""),
        funder_name=str(e.get("funder_name") or ""), programme=str(e.get("programme") or ""),
        amount=e.get("amount"), currency=str(e.get("currency") or ""),
        year_from=_year(e.get("year_from")), year_to=_year(e.get("year_to")))
        for e in entries]


def _results(body: dict[str, Any]) -> list[ResultInput] | None:
    entries = _objects(body, "results", RESULT_FIELDS)
    return None if entries is None else [ResultInput(
        kpi_code=str(e.get("kpi_code") or ""), place_id=str(e.get("place_id") or ""),
        before_period=str(e.get("before_period") or ""),
        after_period=str(e.get("after_period") or ""),
        reported_before=_number(e.get("reported_before"), "reported_before"),
        reported_after=_number(e.get("reported_after"), "reported_after"),
        reported_unit=str(e.get("reported_unit") or ""),
        reported_source=str(e.get("reported_source") or "")) for e in entries]


def _project(body: dict[str, Any]) -> ProjectInput:
    stage = body.get("stage") or Stage.IDEA
    if stage not in set(Stage):
        raise InvalidInput("unknown stage '{stage}'", field="stage", stage=stage)
    partners = body.get("partners") or []
    if not isinstance(partners, list) or not all(
            isinstance(p, dict) and isinstance(p.get("organisation"), str) for p in partners):
        raise InvalidInput("give partners as organisation and role", field="partners")
    return ProjectInput(
        name=str(body.get("name", "")), title=_texts(body, "title"),
        description=_texts(body, "description"), domains=_strings(body, "domains"),
        technologies=_strings(body, "technologies"), place_ids=_strings(body, "place_ids"),
        links=_strings(body, "links"), stage=Stage(stage), as_of=_date(body, "as_of"),
        source=str(body.get("source") or ""),
        partners=[PartnerInput(p["organisation"], str(p.get("role") or "")) for p in partners],
        budget_amount=body.get("budget_amount"),
        budget_currency=str(body.get("budget_currency") or ""),
        success_factors=_text_lists(body, "success_factors"),
        lessons_learned=_text_lists(body, "lessons_learned"),
        funding=_funding(body), results=_results(body))


def _challenge(body: dict[str, Any]) -> ChallengeInput:
    return ChallengeInput(
        name=str(body.get("name", "")), title=_texts(body, "title"),
        needs=_texts(body, "needs"), constraints=_texts(body, "constraints"),
        deadline=_date(body, "deadline"),
        domains=_strings(body, "domains"), kpi_codes=_strings(body, "kpi_codes"),
        as_of=_date(body, "as_of"), source=str(body.get("source") or ""))


def _solution(body: dict[str, Any]) -> SolutionInput:
    return SolutionInput(
        name=str(body.get("name", "")), title=_texts(body, "title"),
        description=_texts(body, "description"), domains=_strings(body, "domains"),
        technologies=_strings(body, "technologies"),
        project_ids=_strings(body, "project_ids"))


ADDERS: dict[str, Callable[..., Any]] = {"project": project_add, "challenge": challenge_add,
                                         "solution": solution_add}
PARSERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "project": _project, "challenge": _challenge, "solution": _solution}


def registry_import(ctx: Context, kind: str, text: str, format: Format, file: str,
                    progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Create the file's records (in one transaction: all or none); ``progress`` hears
    (rows done, rows in all)."""
    kind = _check_kind(kind)
    if len(text.encode("utf-8")) > MAX_IMPORT_BYTES:
        raise InvalidInput("an import holds at most {megabytes} MB", file=file,
                           megabytes=MAX_IMPORT_BYTES // 2**20)
    rows = list(_rows(text, format, file))
    if kind == "relation":
        return _relations_import(ctx, rows, file, progress)
    bodies = [(number, _from_csv_row(kind, raw) if format == "csv" else raw)
              for number, raw in rows]
    with ctx.db.session() as session:
        existing: set[Any] = set(session.scalars(select(MODELS[kind].name)))

        def add(body: dict[str, Any]) -> None:
            ADDERS[kind](session, ctx, str(body.get("organisation", "")), PARSERS[kind](body))

        return _import_rows(session, bodies, file, progress, existing,
                            lambda body: body.get("name"), add)
