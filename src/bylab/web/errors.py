"""One mapping from typed errors to HTTP responses: JSON for the API, a page for people."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bylab.errors import BylabError
from bylab.web.templating import render

CKAN_PREFIXES = ("/api/action/", "/api/3/action/")


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/sta/")) or path.endswith((".json", ".jsonld", ".ttl"))


def ckan_error_body(error: BylabError) -> dict[str, object]:
    detail: dict[str, object] = {"__type": error.ckan_type, "message": str(error)}
    if error.field:
        detail[error.field] = [error.message]
    return {"help": "", "success": False, "error": detail}


def bylab_error_response(request: Request, error: BylabError) -> Response:
    if request.url.path.startswith(CKAN_PREFIXES):
        return JSONResponse(ckan_error_body(error), status_code=error.status_code)
    if wants_json(request):
        return JSONResponse({"error": error.as_dict()}, status_code=error.status_code)
    return render(request, "web/error.html", status_code=error.status_code, error=error)


def install_error_handlers(app: FastAPI) -> None:
    async def handle(request: Request, error: Exception) -> Response:
        assert isinstance(error, BylabError)
        return bylab_error_response(request, error)

    app.add_exception_handler(BylabError, handle)
