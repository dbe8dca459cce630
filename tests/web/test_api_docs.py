"""The API documentation works on a closed network: every asset comes from bylab itself."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from bylab.app import create_app
from bylab.core import Bylab


def test_docs_page_loads_only_local_assets(embedded: Bylab) -> None:
    with TestClient(create_app(embedded)) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
        assert urls, "the docs page references no assets"
        for url in urls:
            assert not url.startswith(("http://", "https://", "//")), url
            assert client.get(url).status_code == 200, url
        spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "bylab API"
    tags = {tag for operation in spec["paths"].values() for method in operation.values()
            for tag in method.get("tags", [])}
    assert {"datasets", "places", "accounts"} <= tags
