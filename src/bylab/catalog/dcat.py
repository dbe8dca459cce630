"""The catalogue as DCAT-AP 3 (and DCAT-AP-NO 2) linked data: ``/catalog.ttl|jsonld|rdf`` and
``/datasets/{name}.ttl|jsonld|rdf``, holding only the datasets the requester may see.

Controlled-vocabulary values (EU data themes, file types, frequencies, access rights,
languages, ADMS publisher types) are emitted with their typing and ``skos:inScheme`` triples,
so the output validates against the official SHACL shapes without fetching the vocabularies.
Each dataset's distributions are its downloads (one per format of its latest version); the
CKAN API's resources are the same objects (``dataset_distributions``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD
from sqlalchemy import select

from bylab.auth.actions import organisation_show
from bylab.auth.models import Organisation, OrganisationKind
from bylab.catalog.metadata import DATA_THEMES, LICENCES
from bylab.catalog.models import Dataset, DatasetVersion, Visibility
from bylab.catalog.queries import DatasetQuery, DatasetSort, dataset_search, dataset_show
from bylab.core import Context
from bylab.places.models import Place
from bylab.web.security import ContextDep

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
DCAT_VERSION = URIRef("http://www.w3.org/ns/dcat#version")  # DCAT 3; not in rdflib's DCAT
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
IANA_MEDIA_TYPES = "http://www.iana.org/assignments/media-types/"
ADMS_PUBLISHER_TYPE = "http://purl.org/adms/publishertype/"
PAGE_SIZE = 100

# Our licence ids (catalog.metadata.LICENCES) in the EU licence authority table, which
# DCAT-AP-NO requires; licences not in that table get no dct:license.
EU_LICENCES = {"CC-BY-4.0": "CC_BY_4_0", "CC0-1.0": "CC0", "NLOD-2.0": "NLOD_2_0", "MIT": "MIT",
               "ODbL-1.0": "ODC_BL"}

# Our UI languages as EU language-authority codes (also the catalogue's dct:language).
EU_LANGUAGES = {"en": "ENG", "nb": "NOB", "nn": "NNO", "sv": "SWE", "pl": "POL"}
# Place countries in the EU country authority table (DCAT-AP-NO wants one such dct:spatial).
EU_COUNTRIES = {"NO": "NOR", "SE": "SWE", "PL": "POL"}
ACCESS_RIGHTS = {Visibility.PUBLIC: "PUBLIC", Visibility.SHARED: "RESTRICTED",
                 Visibility.PRIVATE: "NON_PUBLIC"}
PUBLISHER_TYPES = {
    OrganisationKind.MUNICIPALITY: "LocalAuthority",
    OrganisationKind.REGION: "RegionalAuthority",
    OrganisationKind.COMPANY: "Company",
    OrganisationKind.ACADEMIA: "Academia-ScientificOrganisation",
    OrganisationKind.NETWORK: "NonProfitOrganisation",
    OrganisationKind.PUBLIC_AGENCY: "NationalAuthority",
    OrganisationKind.NGO: "NonGovernmentalOrganisation",
}


class Profile(StrEnum):
    """The application profile the output follows. They differ in two details only:
    DCAT-AP-NO 2 types dcat:byteSize as xsd:decimal (DCAT-AP 3: xsd:nonNegativeInteger) and
    allows one dct:language per dataset."""

    DCAT_AP_3 = "dcat_ap_3"
    DCAT_AP_NO_2 = "dcat_ap_no_2"


@dataclass(frozen=True)
class DownloadFormat:
    extension: str  # in the download URL: /api/datasets/{name}/download.{extension}
    label: str  # CKAN's resource format
    media_type: str  # IANA
    eu_file_type: str  # code in the EU file-type authority table


DOWNLOAD_FORMATS = (
    DownloadFormat("csv", "CSV", "text/csv", "CSV"),
    DownloadFormat("parquet", "Parquet", "application/vnd.apache.parquet", "PARQUET"),
    DownloadFormat("json", "JSON", "application/json", "JSON"),
    DownloadFormat("geojson", "GeoJSON", "application/geo+json", "GEOJSON"),
)


@dataclass(frozen=True)
class Distribution:
    """One download of a dataset's latest version (a CKAN resource)."""

    id: str
    dataset: Dataset
    version: DatasetVersion
    format: DownloadFormat
    position: int

    def download_url(self, base_url: str) -> str:
        return f"{base_url}/api/datasets/{self.dataset.name}/download.{self.format.extension}"

    @property
    def byte_size(self) -> int | None:
        # The stored table is the Parquet file; other formats are made on request.
        return self.version.byte_size if self.format.extension == "parquet" else None


def distribution_id(version_id: str, extension: str) -> str:
    """A stable resource id: the same version and format always give the same id."""
    return str(uuid.uuid5(uuid.UUID(version_id), extension))


def dataset_distributions(dataset: Dataset) -> list[Distribution]:
    """The downloads of the dataset's latest version (none before its first version)."""
    if not dataset.versions:
        return []
    latest = dataset.versions[-1]
    formats = [fmt for fmt in DOWNLOAD_FORMATS if fmt.extension != "geojson" or dataset.is_spatial]
    return [
        Distribution(distribution_id(latest.id, fmt.extension), dataset, latest, fmt, position)
        for position, fmt in enumerate(formats)
    ]


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything is stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def dataset_iri(base_url: str, name: str) -> URIRef:
    return URIRef(f"{base_url}/datasets/{name}")


# ---------------------------------------------------------------- graph building


class CatalogGraph:
    """Builds one DCAT-AP graph; each vocabulary concept is described once."""

    def __init__(self, base_url: str, profile: Profile = Profile.DCAT_AP_3) -> None:
        self.base_url = base_url
        self.profile = profile
        self.graph = Graph()
        for prefix, namespace in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF),
                                  ("vcard", VCARD), ("skos", SKOS), ("locn", LOCN),
                                  ("gsp", GSP), ("hydra", HYDRA)):
            self.graph.bind(prefix, namespace)
        self._described: set[URIRef] = set()

    def add(self, subject: URIRef | BNode, predicate: URIRef, value: object) -> None:
        self.graph.add((subject, predicate, value))  # type: ignore[arg-type]

    def concept(self, table: str, code: str, kind: URIRef, label: str | None = None) -> URIRef:
        """An EU authority-table concept, typed and placed in its scheme."""
        iri = URIRef(f"{EU_AUTHORITY}{table}/{code}")
        scheme = URIRef(f"{EU_AUTHORITY}{table}")
        return self._vocabulary_term(iri, scheme, kind, label or code, f"EU {table} authority")

    def _vocabulary_term(self, iri: URIRef, scheme: URIRef, kind: URIRef, label: str,
                         scheme_title: str) -> URIRef:
        if iri not in self._described:
            self._described.add(iri)
            for term_type in {kind, SKOS.Concept}:
                self.add(iri, RDF.type, term_type)
            self.add(iri, SKOS.prefLabel, Literal(label, lang="en"))
            self.add(iri, SKOS.inScheme, scheme)
            if scheme not in self._described:
                self._described.add(scheme)
                self.add(scheme, RDF.type, SKOS.ConceptScheme)
                self.add(scheme, DCTERMS.title, Literal(scheme_title, lang="en"))
        return iri

    def language(self, code: str) -> URIRef:
        return self.concept("language", EU_LANGUAGES.get(code, "MUL"), DCTERMS.LinguisticSystem)

    def licence(self, licence_id: str) -> URIRef | None:
        code = EU_LICENCES.get(licence_id)
        if code is None:
            return None
        licence = self.concept("licence", code, DCTERMS.LicenseDocument, licence_id)
        if LICENCES.get(licence_id):
            self.add(licence, SKOS.exactMatch, URIRef(LICENCES[licence_id]))
        return licence

    def agent(self, iri: URIRef, name: str, kind: str | None) -> URIRef:
        if iri not in self._described:
            self._described.add(iri)
            self.add(iri, RDF.type, FOAF.Agent)
            self.add(iri, RDF.type, FOAF.Organization)
            self.add(iri, FOAF.name, Literal(name))
            publisher_type = PUBLISHER_TYPES.get(kind or "")
            if publisher_type:
                term = URIRef(f"{ADMS_PUBLISHER_TYPE}{publisher_type}")
                self._vocabulary_term(term, URIRef(f"{ADMS_PUBLISHER_TYPE}1.0"), SKOS.Concept,
                                      publisher_type, "ADMS publisher type")
                self.add(iri, DCTERMS.type, term)
        return iri

    def publisher(self, organisation: Organisation) -> URIRef:
        iri = URIRef(f"{self.base_url}/organisations/{organisation.name}")
        return self.agent(iri, organisation.title, organisation.kind)

    # ------------------------------------------------------------ the catalogue record

    def add_catalog(self, ctx: Context, datasets: Iterable[URIRef], modified: datetime | None,
                    homepage: str) -> URIRef:
        settings = ctx.settings
        catalog = URIRef(f"{self.base_url}/catalog")
        self.add(catalog, RDF.type, DCAT.Catalog)
        self.add(catalog, DCTERMS.identifier, Literal(f"{self.base_url}/catalog"))
        self.add(catalog, DCTERMS.title, Literal(settings.catalog_title, lang="en"))
        self.add(catalog, DCTERMS.description, Literal(
            f"Datasets published on {settings.catalog_title}: city data from municipalities "
            "and their partners.", lang="en"))
        publisher = self.agent(URIRef(f"{self.base_url}/#publisher"),
                               settings.catalog_publisher, None)
        self.add(catalog, DCTERMS.publisher, publisher)
        self.add(catalog, FOAF.homepage, URIRef(homepage))
        self._add_homepage_document(URIRef(homepage))
        for code in EU_LANGUAGES:
            self.add(catalog, DCTERMS.language, self.language(code))
        licence = self.licence("CC0-1.0")  # the catalogue's metadata itself
        self.add(catalog, DCTERMS.license, licence)
        if modified:
            self.add(catalog, DCTERMS.modified, _datetime_literal(modified))
        for dataset in datasets:
            self.add(catalog, DCAT.dataset, dataset)
        return catalog

    def _add_homepage_document(self, iri: URIRef) -> None:
        if iri not in self._described:
            self._described.add(iri)
            self.add(iri, RDF.type, FOAF.Document)

    def add_paging(self, page_link: Callable[[int], str], page: int, last_page: int,
                   total: int) -> None:
        """Hydra paging, as ckanext-dcat writes and follows it."""
        view = URIRef(page_link(page))
        self.add(view, RDF.type, HYDRA.PagedCollection)
        self.add(view, HYDRA.totalItems, Literal(total, datatype=XSD.integer))
        self.add(view, HYDRA.itemsPerPage, Literal(PAGE_SIZE, datatype=XSD.integer))
        self.add(view, HYDRA.firstPage, Literal(page_link(1)))
        self.add(view, HYDRA.lastPage, Literal(page_link(last_page)))
        if page < last_page:
            self.add(view, HYDRA.nextPage, Literal(page_link(page + 1)))
            self.add(view, HYDRA.next, URIRef(page_link(page + 1)))
        if page > 1:
            self.add(view, HYDRA.previousPage, Literal(page_link(page - 1)))
            self.add(view, HYDRA.previous, URIRef(page_link(page - 1)))

    # ------------------------------------------------------------ datasets

    def add_dataset(self, dataset: Dataset, organisation: Organisation,
                    places: dict[str, Place]) -> URIRef:
        iri = dataset_iri(self.base_url, dataset.name)
        self.add(iri, RDF.type, DCAT.Dataset)
        self.add(iri, DCTERMS.identifier, Literal(str(iri)))
        self._add_texts(iri, DCTERMS.title, dataset.title)
        self._add_texts(iri, DCTERMS.description, dataset.description or dataset.title)
        publisher = self.publisher(organisation)
        self.add(iri, DCTERMS.publisher, publisher)
        self.add(iri, DCAT.contactPoint, self._contact(iri, dataset, organisation))
        self.add(iri, DCTERMS.issued, _datetime_literal(dataset.created))
        self.add(iri, DCTERMS.modified, _datetime_literal(dataset.modified))
        self.add(iri, DCTERMS.accessRights, self.concept(
            "access-right", ACCESS_RIGHTS[Visibility(dataset.visibility)], DCTERMS.RightsStatement))
        for theme in dataset.themes:
            self.add(iri, DCAT.theme, self.concept("data-theme", theme, SKOS.Concept,
                                                   DATA_THEMES.get(theme)))
        for keyword in dataset.keywords:
            self.add(iri, DCAT.keyword, Literal(keyword))
        languages = list(dataset.title)
        if self.profile == Profile.DCAT_AP_NO_2:
            languages = [_first_language(dataset.title)]
        for language in languages:
            self.add(iri, DCTERMS.language, self.language(language))
        for place_id in dataset.spatial:
            self.add(iri, DCTERMS.spatial, self._location(place_id, places.get(place_id)))
        for country in sorted({place_id.split("-", 1)[0] for place_id in dataset.spatial}):
            if country in EU_COUNTRIES:
                self.add(iri, DCTERMS.spatial, self._country(EU_COUNTRIES[country]))
        self._add_temporal(iri, dataset.temporal_start, dataset.temporal_end)
        if dataset.frequency:
            self.add(iri, DCTERMS.accrualPeriodicity,
                     self.concept("frequency", dataset.frequency, DCTERMS.Frequency))
        for page in dict.fromkeys(filter(None, (dataset.landing_page, str(iri)))):
            self.add(iri, DCAT.landingPage, URIRef(page))
            self._add_homepage_document(URIRef(page))
        if dataset.source_note:
            self.add(iri, DCTERMS.provenance, self._provenance(iri, dataset.source_note))
        if dataset.versions:
            self.add(iri, DCAT_VERSION, Literal(str(dataset.versions[-1].version)))
        for distribution in dataset_distributions(dataset):
            self.add(iri, DCAT.distribution, self._distribution(iri, distribution))
        return iri

    def _add_texts(self, subject: URIRef, predicate: URIRef, texts: dict[str, str]) -> None:
        for language, text in texts.items():
            if text.strip():
                self.add(subject, predicate, Literal(text, lang=language))

    def _contact(self, dataset_iri_: URIRef, dataset: Dataset,
                 organisation: Organisation) -> URIRef:
        contact = URIRef(f"{dataset_iri_}#contact")
        self.add(contact, RDF.type, VCARD.Organization)
        self.add(contact, RDF.type, VCARD.Kind)
        self.add(contact, VCARD.fn, Literal(dataset.contact_name or organisation.title))
        email = dataset.contact_email or organisation.email
        if email:
            self.add(contact, VCARD.hasEmail, URIRef(f"mailto:{email}"))
        return contact

    def _location(self, place_id: str, place: Place | None) -> URIRef:
        iri = URIRef(f"{self.base_url}/places/{place_id}")
        if iri in self._described:
            return iri
        self._described.add(iri)
        self.add(iri, RDF.type, DCTERMS.Location)
        self.add(iri, DCTERMS.identifier, Literal(place_id))
        if place is not None:
            self.add(iri, SKOS.prefLabel, Literal(place.name))
            self.add(iri, LOCN.geographicName, Literal(place.name))
            if place.centroid_lon is not None and place.centroid_lat is not None:
                self.add(iri, DCAT.centroid, Literal(
                    f"POINT({place.centroid_lon} {place.centroid_lat})",
                    datatype=GSP.wktLiteral))
        return iri

    def _country(self, code: str) -> URIRef:
        country = self.concept("country", code, DCTERMS.Location)
        return country

    def _add_temporal(self, subject: URIRef, start: date | None, end: date | None) -> None:
        if start is None and end is None:
            return
        period = BNode()
        self.add(period, RDF.type, DCTERMS.PeriodOfTime)
        if start is not None:
            self.add(period, DCAT.startDate, Literal(start, datatype=XSD.date))
        if end is not None:
            self.add(period, DCAT.endDate, Literal(end, datatype=XSD.date))
        self.add(subject, DCTERMS.temporal, period)

    def _provenance(self, subject: URIRef, note: str) -> URIRef:
        statement = URIRef(f"{subject}#provenance")
        self.add(statement, RDF.type, DCTERMS.ProvenanceStatement)
        self.add(statement, RDFS.label, Literal(note))
        return statement

    def _distribution(self, dataset_iri_: URIRef, distribution: Distribution) -> URIRef:
        fmt = distribution.format
        iri = URIRef(f"{dataset_iri_}/resource/{distribution.id}")
        download = URIRef(distribution.download_url(self.base_url))
        self.add(iri, RDF.type, DCAT.Distribution)
        self.add(iri, DCTERMS.identifier, Literal(distribution.id))
        self.add(iri, DCTERMS.title, Literal(
            f"{_first_text(distribution.dataset.title)} ({fmt.label})", lang=_first_language(
                distribution.dataset.title)))
        self.add(iri, DCAT.accessURL, download)
        self.add(iri, DCAT.downloadURL, download)
        self.add(iri, DCTERMS.format, self.concept("file-type", fmt.eu_file_type,
                                                   DCTERMS.MediaTypeOrExtent))
        media_type = URIRef(f"{IANA_MEDIA_TYPES}{fmt.media_type}")
        self.add(media_type, RDF.type, DCTERMS.MediaType)
        self.add(iri, DCAT.mediaType, media_type)
        licence = self.licence(distribution.dataset.licence_id)
        if licence is not None:
            self.add(iri, DCTERMS.license, licence)
        self.add(iri, DCTERMS.issued, _datetime_literal(distribution.version.created))
        self.add(iri, DCTERMS.modified, _datetime_literal(distribution.version.created))
        if distribution.byte_size is not None:
            size_type = (XSD.decimal if self.profile == Profile.DCAT_AP_NO_2
                         else XSD.nonNegativeInteger)
            self.add(iri, DCAT.byteSize, Literal(distribution.byte_size, datatype=size_type))
        return iri


def _datetime_literal(moment: datetime) -> Literal:
    return Literal(as_utc(moment).isoformat(timespec="seconds"), datatype=XSD.dateTime)


def _first_text(texts: dict[str, str]) -> str:
    return texts.get("en") or next(iter(texts.values()), "")


def _first_language(texts: dict[str, str]) -> str:
    return "en" if texts.get("en") else next(iter(texts), "en")


# ---------------------------------------------------------------- actions


def _places_by_id(ctx: Context, datasets: Iterable[Dataset]) -> dict[str, Place]:
    place_ids = {place_id for dataset in datasets for place_id in dataset.spatial}
    if not place_ids:
        return {}
    with ctx.db.session() as session:
        return {place.id: place
                for place in session.scalars(select(Place).where(Place.id.in_(place_ids)))}


def catalog_graph(ctx: Context, base_url: str, page: int = 1,
                  profile: Profile = Profile.DCAT_AP_3,
                  page_link: Callable[[int], str] | None = None) -> Graph:
    """The DCAT-AP catalogue of the datasets the actor may see, ``PAGE_SIZE`` per page,
    with Hydra links (made by ``page_link``) when there is more than one page."""
    found = dataset_search(ctx, DatasetQuery(sort=DatasetSort.NAME_ASC, rows=PAGE_SIZE,
                                             start=(page - 1) * PAGE_SIZE))
    builder = CatalogGraph(base_url, profile)
    places = _places_by_id(ctx, found.datasets)
    dataset_iris = [builder.add_dataset(dataset, found.organisations[dataset.organisation_id],
                                        places) for dataset in found.datasets]
    modified = max((as_utc(dataset.modified) for dataset in found.datasets), default=None)
    builder.add_catalog(ctx, dataset_iris, modified, homepage=f"{base_url}/")
    last_page = max(1, -(-found.count // PAGE_SIZE))
    if last_page > 1:
        builder.add_paging(page_link or (lambda number: f"{base_url}/catalog.ttl?page={number}"),
                           page, last_page, found.count)
    return builder.graph


def dataset_graph(ctx: Context, base_url: str, name_or_id: str,
                  profile: Profile = Profile.DCAT_AP_3) -> Graph:
    """One dataset as DCAT-AP, in a catalogue record of its own (NotFound if not visible)."""
    dataset = dataset_show(ctx, name_or_id)
    organisation = organisation_show(ctx, dataset.organisation_id)
    builder = CatalogGraph(base_url, profile)
    iri = builder.add_dataset(dataset, organisation, _places_by_id(ctx, [dataset]))
    builder.add_catalog(ctx, [iri], as_utc(dataset.modified), homepage=f"{base_url}/")
    return builder.graph


# ---------------------------------------------------------------- HTTP

router = APIRouter(tags=["dcat"])
RDF_FORMATS = {  # suffix -> (rdflib format, media type)
    "ttl": ("turtle", "text/turtle"),
    "jsonld": ("json-ld", "application/ld+json"),
    "rdf": ("pretty-xml", "application/rdf+xml"),
}
JSONLD_CONTEXT = {"dcat": str(DCAT), "dct": str(DCTERMS), "foaf": str(FOAF), "vcard": str(VCARD),
                  "skos": str(SKOS), "locn": str(LOCN), "xsd": str(XSD), "hydra": str(HYDRA)}


def base_url_of(ctx: Context, request: Request) -> str:
    """The public URL of this instance: the setting, else the request's own."""
    return (ctx.settings.base_url or str(request.base_url)).rstrip("/")


def rdf_response(graph: Graph, suffix: str) -> Response:
    rdflib_format, media_type = RDF_FORMATS[suffix]
    options = {"context": JSONLD_CONTEXT, "auto_compact": True} if suffix == "jsonld" else {}
    body = graph.serialize(format=rdflib_format, encoding="utf-8", **options)
    return Response(body, media_type=f"{media_type}; charset=utf-8")


def _catalog_route(suffix: str):  # noqa: ANN202
    def serve_catalog(request: Request, ctx: ContextDep, page: Annotated[int, Query(ge=1)] = 1,
                      profile: Profile = Profile.DCAT_AP_3) -> Response:
        def page_link(number: int) -> str:
            return str(request.url.include_query_params(page=number))

        graph = catalog_graph(ctx, base_url_of(ctx, request), page, profile, page_link)
        return rdf_response(graph, suffix)

    serve_catalog.__doc__ = f"The DCAT-AP catalogue as {RDF_FORMATS[suffix][1]}."
    return serve_catalog


def _dataset_route(suffix: str):  # noqa: ANN202
    def serve_dataset(name: str, request: Request, ctx: ContextDep,
                      profile: Profile = Profile.DCAT_AP_3) -> Response:
        return rdf_response(dataset_graph(ctx, base_url_of(ctx, request), name, profile), suffix)

    serve_dataset.__doc__ = f"One dataset as DCAT-AP ({RDF_FORMATS[suffix][1]})."
    return serve_dataset


for _suffix in RDF_FORMATS:
    router.add_api_route(f"/catalog.{_suffix}", _catalog_route(_suffix), methods=["GET"],
                         response_class=Response, name=f"dcat_catalog_{_suffix}")
    router.add_api_route(f"/datasets/{{name}}.{_suffix}", _dataset_route(_suffix),
                         methods=["GET"], response_class=Response, name=f"dcat_dataset_{_suffix}")
