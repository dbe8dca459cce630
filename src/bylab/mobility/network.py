"""Road networks for SUMO: generated (netgenerate grid or spider) when the user has no map,
imported from an OpenStreetMap extract (netconvert) when they have one.

A generated network is synthetic: it stands for no real place, and runs on it say so."""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from pathlib import Path

import sumolib
from pydantic import BaseModel, Field, model_validator

from bylab.catalog.ingest.table_schema import file_sha256
from bylab.errors import InvalidInput
from bylab.mobility.sumo import SumoFailed, binary, run_program


class NetworkKind(StrEnum):
    GRID = "grid"
    SPIDER = "spider"
    OSM = "osm"


class NetworkSpec(BaseModel):
    """How to build a network. ``size`` is the number of junctions per side (grid) or of
    arms (spider); ``osm_file`` is an OpenStreetMap XML extract (``.osm`` or ``.osm.xml``)."""

    kind: NetworkKind = NetworkKind.GRID
    size: int = Field(default=5, ge=2, le=60)
    edge_length_m: float = Field(default=200.0, gt=10, le=5000)
    lanes: int = Field(default=1, ge=1, le=4)
    osm_file: Path | None = None

    @model_validator(mode="after")
    def _osm_needs_file(self) -> NetworkSpec:
        if (self.kind == NetworkKind.OSM) != (self.osm_file is not None):
            raise ValueError("give osm_file exactly when kind is 'osm'")
        return self

    @property
    def synthetic(self) -> bool:
        return self.kind != NetworkKind.OSM

    def label(self) -> str:
        if self.kind == NetworkKind.OSM:
            return f"OpenStreetMap extract {self.osm_file.name if self.osm_file else ''}"
        return (f"synthetic {self.kind} network, {self.size} × {self.edge_length_m:g} m, "
                f"{self.lanes} lane(s)")


# The demo town of the benchmark: a synthetic 8 × 8 grid of two-lane streets, 200 m apart.
DEMO_NETWORK = NetworkSpec(kind=NetworkKind.GRID, size=8, edge_length_m=200, lanes=2)


class NetworkInfo(BaseModel):
    """What was built, for provenance and for checking counter edges."""

    label: str
    synthetic: bool
    sha256: str
    edges: int
    junctions: int
    length_km: float
    source_sha256: str | None = None  # of the OSM extract


def network_build(spec: NetworkSpec, target: Path) -> NetworkInfo:
    """Build the network ``spec`` describes into ``target`` (a ``.net.xml`` file)."""
    if spec.kind == NetworkKind.OSM:
        _import_osm(spec, target)
    else:
        _generate(spec, target)
    return network_info(target, spec.label(), spec.synthetic,
                        file_sha256(spec.osm_file) if spec.osm_file else None)


def _generate(spec: NetworkSpec, target: Path) -> None:
    kind = spec.kind.value
    options = {
        NetworkKind.GRID: ["--grid.number", str(spec.size), "--grid.length",
                           str(spec.edge_length_m)],
        NetworkKind.SPIDER: ["--spider.arm-number", str(max(spec.size, 3)),
                             "--spider.space-radius", str(spec.edge_length_m)],
    }[spec.kind]
    run_program([str(binary("netgenerate")), f"--{kind}", *options,
                 "--default.lanenumber", str(spec.lanes), "--no-turnarounds", "true",
                 "--output-file", str(target)])


def _import_osm(spec: NetworkSpec, target: Path) -> None:
    assert spec.osm_file is not None
    if not spec.osm_file.is_file():
        raise InvalidInput("no such OpenStreetMap file", file=str(spec.osm_file))
    try:
        run_program([str(binary("netconvert")), "--osm-files", str(spec.osm_file),
                     "--geometry.remove", "--ramps.guess", "--junctions.join",
                     "--tls.guess-signals", "--remove-edges.isolated",
                     "--keep-edges.by-vclass", "passenger", "--no-turnarounds", "true",
                     "--output-file", str(target)])
    except SumoFailed as error:
        raise InvalidInput("not a usable OpenStreetMap extract ({problem})",
                           file=str(spec.osm_file), problem=error.message) from None
    if network_info(target, "", False).edges == 0:
        raise InvalidInput("the OpenStreetMap extract has no roads for cars",
                           file=str(spec.osm_file))


def network_info(path: Path, label: str, synthetic: bool,
                 source_sha256: str | None = None) -> NetworkInfo:
    net = sumolib.net.readNet(str(path))
    edges = [edge for edge in net.getEdges() if edge.getFunction() != "internal"]
    return NetworkInfo(
        label=label, synthetic=synthetic, sha256=network_sha256(path), edges=len(edges),
        junctions=len(net.getNodes()),
        length_km=round(sum(edge.getLength() for edge in edges) / 1000, 3),
        source_sha256=source_sha256)


def network_edge_ids(path: Path) -> set[str]:
    return {edge.getID() for edge in sumolib.net.readNet(str(path)).getEdges()}



GENERATED_COMMENT = re.compile(rb"<!-- generated on .*?-->", re.DOTALL)


def network_sha256(path: Path) -> str:
    """SHA-256 of a network file without SUMO's "generated on <time>" comment, so the same
    network built twice has the same digest."""
    return hashlib.sha256(GENERATED_COMMENT.sub(b"", path.read_bytes(), count=1)).hexdigest()
