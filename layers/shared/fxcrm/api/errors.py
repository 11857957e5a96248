"""One JSON error shape for every function: {code, message, field}.

Domain errors map to statuses here; anything unexpected is logged with its
stack and answered as a bare 500 that says nothing of the internals.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from fxcrm.core import errors
from fxcrm.core.observability import logger

STATUS_BY_ERROR: dict[type[errors.DomainError], int] = {
    errors.InvalidInput: 422,
    errors.NotAuthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooManyRequests: 429,
    errors.ProviderUnavailable: 503,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


# What a status of the HTTP layer itself (no route, no such method, ...) is about.
_HTTP_FIELDS = {
    404: "path",
    405: "method",
    406: "Accept",
    413: "body",
    415: "Content-Type",
}


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    errors: list[FieldError] | None = None


# The error body by reference, not as `model`: FastAPI builds a pydantic field per
# route and status for a `model` (about 5 per route, a third of a function's route
# building at cold start); `with_error_schemas` puts the one schema in the document.
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def error_schemas() -> dict[str, Any]:
    """ErrorBody's and FieldError's schemas, as FastAPI would have written them."""
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    for prop in schema["properties"].values():
        if prop.get("default", ...) is None:
            del prop["default"]  # FastAPI leaves a response's `None` defaults out
    return {**schema.pop("$defs"), "ErrorBody": schema}


def with_error_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI document whose error responses' reference resolves."""
    document.setdefault("components", {}).setdefault("schemas", {}).update(error_schemas())
    return document


def _describe(status: int) -> dict[str, Any]:
    return {
        "content": _ERROR_CONTENT,
        "description": {
            400: "Bad request",
            401: "Missing, invalid, expired or revoked token, or wrong credentials",
            403: "Authenticated but not allowed",
            404: "Not found",
            409: "Conflicts with the current state",
            422: "A field is invalid; `field` names it",
            429: "Rate limited; see Retry-After",
            503: "An upstream provider is unavailable",
            500: "Internal error",
        }[status],
    }


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses a route can answer."""
    return {status: _describe(status) for status in sorted({400, 422, 500, *statuses})}


def body(
    code: str, message: str, field: str | None = None, field_errors: list[FieldError] | None = None
) -> dict[str, Any]:
    return ErrorBody(code=code, message=message, field=field, errors=field_errors).model_dump(exclude_none=True)


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(location[-1] if location else "body")


def _field_error(error: dict[str, Any]) -> FieldError:
    if error.get("type") == "json_invalid":
        # pydantic locates bad JSON by character offset: the field is the body itself
        offset = next((p for p in error.get("loc", ()) if isinstance(p, int)), None)
        where = f" (at character {offset})" if offset is not None else ""
        return FieldError(field="body", message=f"is not valid JSON{where}")
    return FieldError(field=_field_name(tuple(error.get("loc", ()))), message=str(error.get("msg", "invalid")))


def _allowed_methods(request: Request) -> list[str]:
    """Every method of every route on this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.state.api_routes:
        if route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return sorted(methods)


def install(app: FastAPI, routes: list[APIRoute]) -> None:
    app.state.api_routes = routes

    @app.exception_handler(errors.DomainError)
    async def domain_error(_: Request, error: errors.DomainError) -> JSONResponse:
        status = next((s for kind, s in STATUS_BY_ERROR.items() if isinstance(error, kind)), 400)
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, errors.TooManyRequests) else None
        return JSONResponse(body(error.code, error.message, error.field), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        found = [_field_error(e) for e in error.errors()]
        first = found[0] if found else FieldError(field="body", message="invalid request")
        return JSONResponse(
            body("validation_error", f"{first.field}: {first.message}", first.field, found), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, "error")
        headers = dict(getattr(error, "headers", None) or {})
        if error.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        field = _HTTP_FIELDS.get(error.status_code)
        message = f"no such path: {request.url.path}" if error.status_code == 404 else str(error.detail)
        return JSONResponse(body(code, message, field), status_code=error.status_code, headers=headers or None)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        return JSONResponse(body("internal_error", "something went wrong; it has been logged"), status_code=500)
