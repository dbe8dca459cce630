"""Who does what: a graph of actors, projects and places, filterable by taxonomy term (e.g.
every actor working on digital twins), by place or region, and by the kind of actor.

Edges: an actor ``runs``, is a ``partner`` in or ``funds`` a project (a funding line whose
funder is an organisation of bylab), a project ``at`` a place, an actor ``based in`` a place, an actor ``member of`` a network, and the typed relations between
actors (``supplier to``, ``owned by``, ...; an actor related to one in the graph joins it,
one step out). The view lays the graph out on the
server (networkx's spring layout with a fixed seed, so the same graph draws the same)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bylab.auth.models import NetworkMembership, Organisation
from bylab.core import Context
from bylab.errors import InvalidInput
from bylab.places.models import Place
from bylab.registry.models import (
    ActorRelation,
    FundingLine,
    Project,
    ProjectPartner,
    RelationKind,
)
from bylab.registry.taxonomy import taxonomy

SVG_SIZE = 900
MARGIN = 60
LAYOUT_SEED = 7
LABEL_ROOM = 260  # room right of the layout for the labels of the rightmost nodes


@dataclass(frozen=True)
class Node:
    id: str  # "actor:molde", "project:smart-molde-programme", "place:NO-1506"
    type: str  # actor, project or place
    name: str
    label: str
    kind: str = ""  # an actor's kind, a project's stage, a place's level


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    relation: str  # runs, partner, funds, at, based in, member of, or an actor relation's label


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


def _in_region(place_id: str, region: str, parents: dict[str, str | None]) -> bool:
    """Whether the place is the region or lies in it (by the loaded places' parents, or by
    its code starting with the region's when the place is not loaded: NO-1506 in NO-15)."""
    seen = place_id
    while seen:
        if seen == region:
            return True
        if seen not in parents:
            return seen.startswith(region)
        seen = parents[seen] or ""
    return False


def _projects(session: Session, term: str | None, region: str | None,
              parents: dict[str, str | None]) -> list[Project]:
    projects = list(session.scalars(select(Project).order_by(Project.name)))
    if term:
        projects = [p for p in projects if term in p.domains or term in p.technologies]
    if region:
        projects = [p for p in projects
                    if any(_in_region(place, region, parents) for place in p.place_ids)]
    return projects


def registry_graph(ctx: Context, term: str | None = None, region: str | None = None,
                   actor_kind: str | None = None) -> Graph:
    """Projects (of the term, at places in the region), the actors running, funding or taking
    part in them (of that kind), their places, and network memberships among those actors."""
    if term and term not in taxonomy():
        raise InvalidInput("unknown term '{term}'", field="term", term=term)
    graph, node_ids = Graph(), set()

    def add(node: Node) -> None:
        if node.id not in node_ids:
            node_ids.add(node.id)
            graph.nodes.append(node)

    with ctx.db.session() as session:
        parents = {place_id: parent for place_id, parent in session.execute(
            select(Place.id, Place.parent_id))}
        place_names = {place_id: name for place_id, name in session.execute(
            select(Place.id, Place.name))}
        orgs = {org.id: org for org in session.scalars(select(Organisation))}
        projects = _projects(session, term, region, parents)
        links = [(p.id, p.organisation_id, "runs") for p in projects]
        links += _project_links(session, [p.id for p in projects])
        memberships = list(session.execute(select(NetworkMembership.member_id,
                                                  NetworkMembership.network_id)))
        relations = list(session.scalars(select(ActorRelation)))
    by_id = {project.id: project for project in projects}
    for project_id, org_id, relation in links:
        org, project = orgs[org_id], by_id[project_id]
        if actor_kind and org.kind != actor_kind:
            continue
        add(Node(f"project:{project.name}", "project", project.name,
                 project.title.get("en") or next(iter(project.title.values())), project.stage))
        add(Node(f"actor:{org.name}", "actor", org.name, org.title, org.kind))
        graph.edges.append(Edge(f"actor:{org.name}", f"project:{project.name}", relation))
        for place_id in project.place_ids:
            add(Node(f"place:{place_id}", "place", place_id, place_names.get(place_id, place_id)))
            graph.edges.append(Edge(f"project:{project.name}", f"place:{place_id}", "at"))
    _add_relations(graph, add, node_ids, orgs, relations, actor_kind)
    for org in orgs.values():
        if f"actor:{org.name}" in node_ids and org.place_id:
            add(Node(f"place:{org.place_id}", "place", org.place_id,
                     place_names.get(org.place_id, org.place_id)))
            graph.edges.append(Edge(f"actor:{org.name}", f"place:{org.place_id}", "based in"))
    for member_id, network_id in memberships:
        member, network = f"actor:{orgs[member_id].name}", f"actor:{orgs[network_id].name}"
        if member in node_ids and network in node_ids:
            graph.edges.append(Edge(member, network, "member of"))
    graph.edges = list(dict.fromkeys(graph.edges))
    return graph


def _project_links(session: Session, project_ids: list[str]) -> list[tuple[str, str, str]]:
    """(project id, organisation id, relation) of the projects' partners and of their
    funders that are organisations of bylab (a funder named in words has no node)."""
    partners = session.execute(select(ProjectPartner.project_id, ProjectPartner.organisation_id)
                               .where(ProjectPartner.project_id.in_(project_ids)))
    funders = session.execute(
        select(FundingLine.project_id, FundingLine.funder_organisation_id).distinct()
        .where(FundingLine.project_id.in_(project_ids),
               FundingLine.funder_organisation_id.is_not(None))
        .order_by(FundingLine.project_id, FundingLine.funder_organisation_id))
    return ([(project_id, org_id, "partner") for project_id, org_id in partners]
            + [(project_id, str(org_id), "funds") for project_id, org_id in funders])


def _add_relations(graph: Graph, add: Callable[[Node], None], node_ids: set[str],
                   orgs: dict[str, Organisation], relations: list[ActorRelation],
                   actor_kind: str | None) -> None:
    """Edges for the actor relations touching the graph's actors, with the actor at their
    other end (of the kind asked for) added."""
    shown = set(node_ids)
    for relation in sorted(relations, key=lambda r: (r.subject_id, r.kind, r.object_id)):
        subject, object = orgs[relation.subject_id], orgs[relation.object_id]
        ends = (f"actor:{subject.name}", f"actor:{object.name}")
        if not shown & set(ends):
            continue
        other = subject if ends[0] not in shown else object
        if f"actor:{other.name}" not in shown:
            if actor_kind and other.kind != actor_kind:
                continue
            add(Node(f"actor:{other.name}", "actor", other.name, other.title, other.kind))
        graph.edges.append(Edge(*ends, RelationKind(relation.kind).label))


@dataclass(frozen=True)
class Drawn:
    nodes: list[tuple[Node, float, float]]
    edges: list[tuple[Edge, float, float, float, float]]
    width: int
    height: int


def graph_svg(graph: Graph) -> Drawn:
    """Positions for drawing the graph: a square of ``SVG_SIZE`` pixels, with room for
    labels on its right."""
    layout_graph = nx.Graph()
    layout_graph.add_nodes_from(node.id for node in graph.nodes)
    layout_graph.add_edges_from((edge.source, edge.target) for edge in graph.edges)
    positions = nx.spring_layout(layout_graph, seed=LAYOUT_SEED) if graph.nodes else {}
    xs = [float(x) for x, _y in positions.values()] or [0.0]
    ys = [float(y) for _x, y in positions.values()] or [0.0]
    span = SVG_SIZE - 2 * MARGIN

    def axis(value: float, low: float, high: float) -> float:
        return round(MARGIN + (value - low) / ((high - low) or 1.0) * span, 1)

    def scaled(node_id: str) -> tuple[float, float]:
        x, y = positions[node_id]
        return axis(float(x), min(xs), max(xs)), axis(float(y), min(ys), max(ys))

    nodes = [(node, *scaled(node.id)) for node in graph.nodes]
    edges = [(edge, *scaled(edge.source), *scaled(edge.target)) for edge in graph.edges]
    return Drawn(nodes, edges, SVG_SIZE + LABEL_ROOM, SVG_SIZE)
