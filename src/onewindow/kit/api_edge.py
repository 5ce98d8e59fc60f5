"""The HTTP edge of the node's API, in front of every domain's router: the body limit, errors as
application/problem+json (documented as such in OpenAPI), authentication before validation,
and the Swagger UI served from the package, never from a CDN a closed customs network cannot
reach.

The app factory (api.py) calls `install(app, max_body_bytes)` once."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from onewindow.kit import auth
from onewindow.kit.errors import NotAuthenticated, OneWindowError, PayloadTooLarge, from_validation

log = logging.getLogger("onewindow.api")
PROBLEM = "application/problem+json"
DOCS_ASSETS = "/docs/assets"


def problem(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM, headers=headers)


def install(app: FastAPI, max_body_bytes: int) -> None:
    install_error_handlers(app)
    document_problems(app)
    serve_docs(app)
    app.add_middleware(BodyLimit, limit=max_body_bytes)


# ---- the body: its size, and a client that goes away while sending it ----


class BodyLimit:
    """Refuse bodies over the limit (413) from their Content-Length, or while they are read
    when they come chunked: the count is per chunk the server hands over, never per byte.

    A client that disconnects before its body is complete gets no answer and costs one log
    line (`api.client_disconnected`), not a 500 with tracebacks: nobody is there to read it.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    def _too_large(self) -> JSONResponse:
        return problem(PayloadTooLarge(f"the body is larger than {self.limit} bytes").problem())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._too_large()(scope, receive, send)
            return
        seen = 0
        complete = False  # the whole body has been read
        answered = False  # this middleware answered (413); the app's answer is dropped
        gone = False  # the client left before its body was complete

        async def limited() -> Message:
            nonlocal seen, complete, answered, gone
            message = await receive()
            if message["type"] == "http.disconnect":
                gone = gone or not complete
                return message
            seen += len(message.get("body", b""))
            complete = not message.get("more_body", False)
            if seen > self.limit and not answered:
                answered = True
                await self._too_large()(scope, receive, send)
                # The app stops reading as if the client had gone; its answer is dropped below.
                return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not (answered or gone):
                await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not (answered or gone):
                raise
        if gone and not answered:
            log.warning("api.client_disconnected path=%s", scope.get("path", ""))


# ---- errors as problem+json, and authentication before validation ----


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OneWindowError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


async def _domain_error(request: Request, exc: OneWindowError) -> JSONResponse:
    if isinstance(exc, NotAuthenticated):  # RFC 6750: say which scheme to authenticate with
        return problem(exc.problem(), headers={"WWW-Authenticate": "Bearer"})
    return problem(exc.problem())


def invalid_input(errors: list[dict[str, str]]) -> dict[str, Any]:
    detail = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:5])
    if len(errors) > 5:
        detail += f"; and {len(errors) - 5} more"
    return {
        "type": "urn:onewindow:error:invalid_input",
        "title": "The input is not valid",
        "status": 422,
        "code": "invalid_input",
        "detail": detail,
        "errors": errors,
    }


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    refused = await _unauthenticated(request)
    if refused is not None:
        return refused
    errors = [e.as_dict() for e in from_validation(exc.errors(), skip="body")]
    return problem(invalid_input(errors))


# What a body FastAPI could not parse broke on (the cause of its plain 400), named for people.
_UNPARSABLE: tuple[tuple[type[BaseException], str, str], ...] = (
    (RecursionError, "too_deep", "the JSON is nested too deeply"),
    (UnicodeDecodeError, "invalid_encoding", "the body is not valid UTF-8"),
    (ValueError, "number_too_long", "a number in the JSON has too many digits"),
)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 400 and isinstance(exc.__cause__, Exception):
        refused = await _unauthenticated(request)
        if refused is not None:
            return refused
        code, message = "malformed_body", "the body could not be read"
        for kind, known_code, known_message in _UNPARSABLE:
            if isinstance(exc.__cause__, kind) and (
                kind is not ValueError or "digits" in str(exc.__cause__)
            ):
                code, message = known_code, known_message
                break
        return problem(invalid_input([{"path": "body", "code": code, "message": message}]))
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    body = {
        "type": f"urn:onewindow:error:{code}",
        "title": code.replace("_", " ").capitalize(),
        "status": exc.status_code,
        "code": code,
        "detail": str(exc.detail),
    }
    return problem(body, headers=dict(exc.headers or {}))


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("api.unexpected_error path=%s", request.url.path)
    return problem(
        {
            "type": "about:blank",
            "title": "Internal error",
            "status": 500,
            "code": "internal_error",
            "detail": "the node failed; see its log",
        }
    )


async def _unauthenticated(request: Request) -> JSONResponse | None:
    """The 401 a request without a valid token gets on a route that needs one, before anything
    is said about its input: a stranger learns nothing of what the API accepts."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not _needs_token(route):
        return None
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    node = request.app.state.node
    try:
        await run_in_threadpool(_authenticate, node, token if scheme.lower() == "bearer" else None)
    except NotAuthenticated as exc:
        return problem(exc.problem(), headers={"WWW-Authenticate": "Bearer"})
    return None


def _authenticate(node: Any, token: str | None) -> None:
    with node.transaction() as session:
        auth.authenticate(session, token)


def _needs_token(route: APIRoute) -> bool:
    # Walked on each refused request only: a handful of dependencies, no cache needed.
    return _uses_security(route.dependant)


def _uses_security(dependant: Dependant) -> bool:
    return isinstance(dependant.call, SecurityBase) or any(
        _uses_security(d) for d in dependant.dependencies
    )


# ---- OpenAPI: every 4xx is a problem document ----


class ProblemFieldError(BaseModel):
    path: str = Field(description="Where in the input, dotted: `items.0.hs_code`")
    code: str = Field(description="A stable code, such as `string_pattern_mismatch`")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    type: str = Field(description="`urn:onewindow:error:<code>`")
    title: str
    status: int
    code: str = Field(description="A stable code for programs, such as `invalid_input`")
    detail: str = Field(description="For people")
    errors: list[ProblemFieldError] | None = Field(
        None, description="Every field error, for `invalid_input` and refused messages"
    )


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def document_problems(app: FastAPI) -> None:
    """Every operation documents its 4xx answers as application/problem+json with the real
    schema, in place of FastAPI's HTTPValidationError that this API never sends."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        found = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(found.pop("$defs", {}))
        schemas["Problem"] = found
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                _problem_responses(operation["responses"])
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _problem_responses(responses: dict[str, Any]) -> None:
    content = {PROBLEM: {"schema": _PROBLEM_REF}}
    for status, response in responses.items():
        if status.startswith("4"):
            media = response.get("content", {})
            media.pop("application/json", None)  # FastAPI's HTTPValidationError
            response["content"] = media | content
            if status == "422" and response.get("description") == "Validation Error":
                response["description"] = "The input is not valid: every field error"
    responses.setdefault("4XX", {"description": "Refused: a problem document", "content": content})


# ---- the Swagger UI, from the package ----


def serve_docs(app: FastAPI) -> None:
    """/docs with Swagger UI's own files (the pinned swagger-ui-bundle-v2 package), so that it
    works where the node has no way out to the internet. ReDoc, which only loads from a CDN,
    is off (create the app with `redoc_url=None`)."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            # The validator badge is an image from the validator's own host: off.
            swagger_ui_parameters={"validatorUrl": None},
        )

    app.add_api_route("/docs", docs, include_in_schema=False, methods=["GET"])
