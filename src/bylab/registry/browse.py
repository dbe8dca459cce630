"""Browsing the registry: every record (or a search's hits) narrowed by facets (type, domain,
technology, stage, place, the owner's kind, KPI), with the count of each facet value."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from sqlalchemy import select

from bylab.auth.models import Organisation
from bylab.core import Context
from bylab.registry.models import Challenge, Project, Solution
from bylab.registry.reasons import Reason
from bylab.registry.search import registry_search

FACETS = ("type", "domain", "technology", "stage", "place", "actor_kind", "kpi")


@dataclass(frozen=True)
class Item:
    type: str
    name: str
    title: dict[str, str]
    owner: Organisation
    values: dict[str, tuple[str, ...]]  # facet -> this record's values
    score: float | None = None
    reason: str = ""
    reasons: tuple[Reason, ...] = ()  # why a search found it


@dataclass
class Browse:
    items: list[Item]
    facets: dict[str, Counter[str]] = field(default_factory=dict)  # over all matching records


def _item(type_name: str, record: Project | Challenge | Solution, owner: Organisation) -> Item:
    values = {
        "type": (type_name,),
        "domain": tuple(record.domains),
        "technology": tuple(getattr(record, "technologies", ())),
        "stage": (record.stage,) if isinstance(record, Project) else (),
        "place": tuple(record.place_ids if isinstance(record, Project)
                       else [owner.place_id] if owner.place_id else []),
        "actor_kind": (owner.kind,),
        "kpi": tuple(getattr(record, "kpi_codes", ())),
    }
    return Item(type_name, record.name, record.title, owner, values)


def _all_items(ctx: Context) -> dict[str, Item]:
    with ctx.db.session() as session:
        owners = {org.id: org for org in session.scalars(select(Organisation))}
        items = {}
        for type_name, model in (("project", Project), ("challenge", Challenge),
                                 ("solution", Solution)):
            for record in session.scalars(select(model).order_by(model.name)):
                items[record.id] = _item(type_name, record, owners[record.organisation_id])
    return items


def registry_browse(ctx: Context, text: str = "", lang: str | None = None,
                    chosen: dict[str, str] | None = None) -> Browse:
    """Records matching ``text`` (all when empty; best first) having every chosen facet
    value, with facet counts over the records the text matches (so each count says what
    choosing that value would leave, other facets aside)."""
    items = _all_items(ctx)
    if text.strip():
        hits = registry_search(ctx, text, lang, limit=len(items) or 1)
        found = [replace(items[hit.id], score=hit.score, reason=hit.reason, reasons=hit.reasons)
                 for hit in hits]
    else:
        found = list(items.values())
    chosen = {facet: value for facet, value in (chosen or {}).items() if value}
    facets = {facet: Counter(value for item in found for value in item.values[facet])
              for facet in FACETS}
    kept = [item for item in found
            if all(value in item.values[facet] for facet, value in chosen.items())]
    return Browse(kept, facets)
