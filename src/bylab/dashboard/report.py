"""The printable city profile as a PDF, rendered by WeasyPrint from the report page's HTML.

WeasyPrint needs the Pango system library (Debian: ``libpango-1.0-0 libpangoft2-1.0-0``); the
report page carries its styles and charts inline, so nothing is fetched while rendering."""

from __future__ import annotations

from typing import Any


def _no_fetching(url: str, *_args: Any, **_kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"the report fetches nothing, not {url}")


def pdf_of(html: str) -> bytes:
    """The PDF of a self-contained HTML page."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as missing:
        raise RuntimeError("PDF reports need WeasyPrint (pip install weasyprint) and its "
                           f"system library Pango: {missing}") from missing
    pdf: bytes = HTML(string=html, url_fetcher=_no_fetching).write_pdf()
    return pdf
