"""A PxWeb client: POST a table query to a PxWeb API v1 or PxWebApi 2.0 server.

v1 (SSB ``https://data.ssb.no/api/v0/en/table``, SCB ``https://api.scb.se/OV0104/v1/doris/en/ssd``):
``POST <base>/<table path>`` with ``{"query": [{"code", "selection": {"filter", "values"}}],
"response": {"format"}}``.
v2 (``…/api/v2``): ``POST <base>/tables/<id>/data?outputFormat=json-stat2`` with
``{"selection": [{"variableCode", "valueCodes"}]}``.
Tests pass an ``httpx.MockTransport`` replaying recorded responses; the live path is the same.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx

from bylab.errors import BylabError, InvalidInput

__all__ = ["ApiVersion", "PxWebSource", "ResponseFormat", "Selection", "network_errors",
           "pxweb_fetch",
           "pxweb_request_body", "pxweb_url", "selections_from_query"]

DEFAULT_TIMEOUT_S = 60.0


class ApiVersion(StrEnum):
    V1 = "v1"
    V2 = "v2"


class ResponseFormat(StrEnum):
    JSON_STAT2 = "json-stat2"
    JSON_STAT = "json-stat"  # 1.x, v1 servers only
    JSON = "json"  # PxWeb v1 columns/data


@dataclass(frozen=True)
class Selection:
    """Which categories of one variable to fetch. ``filter`` is v1's ("item", "all", "top",
    "agg:…"); in v2 the value codes carry any pattern (``*``, ``top(5)``)."""

    code: str
    values: list[str]
    filter: str = "item"
    codelist: str | None = None  # v2 code list (v1: an "agg:" or "vs:" filter)


@dataclass(frozen=True)
class PxWebSource:
    """One table query on one PxWeb server."""

    base_url: str
    table: str  # v1: path below the base (BE/BE0101/BE0101A/BefolkningNy or 07459); v2: id
    selections: list[Selection] = field(default_factory=list)
    response_format: ResponseFormat = ResponseFormat.JSON_STAT2
    language: str | None = None  # v2 only (v1 has the language in the base URL)
    country: str = ""  # "NO" or "SE": region codes become place ids NO-<code>/SE-<code>

    @property
    def api_version(self) -> ApiVersion:
        """v2 when the base URL ends in /v2 (or SCB's /v2beta), as PxWebApi 2.0 bases do."""
        return (ApiVersion.V2 if re.search(r"/v2(beta)?$", self.base_url.rstrip("/"))
                else ApiVersion.V1)


def pxweb_url(source: PxWebSource) -> str:
    """Where the query is POSTed."""
    base = source.base_url.rstrip("/")
    table = source.table.strip("/")
    if source.api_version == ApiVersion.V2:
        return f"{base}/tables/{table}/data"
    return f"{base}/{table}"


def pxweb_request_body(source: PxWebSource) -> dict[str, Any]:
    """The JSON body of the query, in the server's API version."""
    if source.api_version == ApiVersion.V2:
        selection: list[dict[str, Any]] = []
        for item in source.selections:
            entry: dict[str, Any] = {"variableCode": item.code, "valueCodes": item.values}
            if item.codelist:
                entry["codelist"] = item.codelist
            selection.append(entry)
        return {"selection": selection}
    return {
        "query": [{"code": item.code, "selection": {"filter": item.filter, "values": item.values}}
                  for item in source.selections],
        "response": {"format": str(source.response_format)},
    }


def _query_parameters(source: PxWebSource) -> dict[str, str]:
    if source.api_version == ApiVersion.V1:
        return {}
    parameters = {"outputFormat": str(source.response_format)}
    if source.language:
        parameters["lang"] = source.language
    return parameters


def selections_from_query(query: Any, filename: str) -> list[Selection]:
    """Selections from a saved query: the v1 form the statistics banks show ("API query":
    ``{"query": [...]}``) or the v2 form (``{"selection": [...]}``)."""
    if isinstance(query, dict) and isinstance(query.get("query"), list):
        return [_v1_selection(item, filename, f"query.{index}")
                for index, item in enumerate(query["query"])]
    if isinstance(query, dict) and isinstance(query.get("selection"), list):
        return [_v2_selection(item, filename, f"selection.{index}")
                for index, item in enumerate(query["selection"])]
    raise InvalidInput("expected a PxWeb query: {\"query\": [...]} (v1) or "
                       "{\"selection\": [...]} (v2)", file=filename)


def _v1_selection(item: Any, filename: str, path: str) -> Selection:
    selection = item.get("selection") if isinstance(item, dict) else None
    if not isinstance(selection, dict) or not isinstance(item.get("code"), str):
        raise InvalidInput("each item needs 'code' and 'selection'", file=filename, field=path)
    values = selection.get("values")
    if not isinstance(values, list):
        raise InvalidInput("'values' must be a list", file=filename,
                           field=f"{path}.selection.values")
    return Selection(code=item["code"], values=[str(value) for value in values],
                     filter=str(selection.get("filter") or "item"))


def _v2_selection(item: Any, filename: str, path: str) -> Selection:
    if not isinstance(item, dict) or not isinstance(item.get("variableCode"), str):
        raise InvalidInput("each item needs 'variableCode'", file=filename, field=path)
    values = item.get("valueCodes")
    if not isinstance(values, list):
        raise InvalidInput("'valueCodes' must be a list", file=filename,
                           field=f"{path}.valueCodes")
    return Selection(code=item["variableCode"], values=[str(value) for value in values],
                     codelist=item.get("codelist"))


@contextmanager
def network_errors(url: str, timeout_s: float) -> Iterator[None]:
    """A timeout or a failed connection inside the block as a BylabError naming the URL."""
    try:
        yield
    except httpx.TimeoutException:
        raise BylabError("no answer within {timeout_s:g} s", file=url,
                         timeout_s=timeout_s) from None
    except httpx.HTTPError as error:
        raise BylabError("could not reach the server ({error})", file=url,
                         error=error) from None


def pxweb_fetch(source: PxWebSource, transport: httpx.BaseTransport | None = None,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> Any:
    """POST the query and return the decoded JSON answer. Network failures, timeouts and
    HTTP errors raise ``BylabError``/``InvalidInput`` naming the URL."""
    url = pxweb_url(source)
    with network_errors(url, timeout_s), httpx.Client(transport=transport,
                                                      timeout=timeout_s) as client:
        response = client.post(url, json=pxweb_request_body(source),
                               params=_query_parameters(source))
    _check_status(response, url)
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("the answer is not JSON", file=url) from None


def _check_status(response: httpx.Response, url: str) -> None:
    if response.is_success:
        return
    status, detail = response.status_code, response.text.strip()[:200]
    if status in (400, 403, 404):  # the query or table is wrong
        if detail:
            raise InvalidInput("the server answered HTTP {status}: {detail}", file=url,
                               field="query", status=status, detail=detail)
        raise InvalidInput("the server answered HTTP {status}", file=url, field="query",
                           status=status)
    if detail:
        raise BylabError("the server answered HTTP {status}: {detail}", file=url,
                         status=status, detail=detail)
    raise BylabError("the server answered HTTP {status}", file=url, status=status)
