"""The local HTTP API: routes requests by the template's HttpApi events into
payload-2.0 events for the named handler (Mangum runs as on AWS), plus the
developer endpoints: /openapi.json, /docs, /_dev/mailbox, /_dev/mail/bounce, /_dev/captcha."""

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from localcloud.events import http_event, response_body
from localcloud.functions import Handler, invoke_handler

MAX_BODY = 10 * 1024 * 1024  # API Gateway HTTP APIs accept up to 10 MB
JSON = [("Content-Type", "application/json")]


def error_reply(
    status: int, code: str, message: str, field: str | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """What the gateway answers itself, in fxcrm's error shape (docs/api.md)."""
    from fxcrm.api.errors import body

    return status, list(JSON), json.dumps(body(code, message, field)).encode()


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str  # physical function name
    pattern: re.Pattern[str]
    specificity: tuple[bool, int, int]

    @classmethod
    def make(cls, method: str, path: str, function: str) -> "Route":
        regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(path))
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        params = path.count("{")
        # As API Gateway: literal segments beat parameters, and greedy {proxy+} comes last.
        return cls(method, path, function, re.compile(f"^{regex}$"), ("+}" in path, params, -len(path)))


DevEndpoint = Callable[[dict[str, list[str]]], tuple[int, str, bytes]]


class Gateway:
    def __init__(self, routes: list[Route], handlers: dict[str, Handler], dev: dict[str, DevEndpoint]) -> None:
        self.routes = sorted(routes, key=lambda r: r.specificity)
        self.handlers = handlers
        self.dev = dev

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """The route, its path parameters, and whether the path exists for another method."""
        path_known = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found:
                path_known = True
                if route.method in (method, "ANY"):
                    return route, found.groupdict(), True
        return None, {}, path_known

    def call(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        split = urlsplit(target)
        if split.path in self.dev:
            status, content_type, payload = self.dev[split.path](parse_qs(split.query))
            return status, [("Content-Type", content_type)], payload
        route, params, _path_known = self.match(method, split.path)
        if route is None:
            # Outside every function's prefix. (API Gateway itself would answer
            # {"message":"Not Found"}; docs/api.md says so.)
            return error_reply(404, "not_found", f"no such path: {split.path}", "path")
        event = http_event(
            method, split.path, f"{route.method} {route.path}", headers, split.query, body, source_ip, params or None
        )
        try:
            response = invoke_handler(self.handlers[route.function], event, route.function)
        except Exception:  # a crashed handler is a 500 from API Gateway, nothing more
            import traceback

            traceback.print_exc()
            return error_reply(500, "internal_error", "something went wrong; it has been logged")
        out_headers = list((response.get("headers") or {}).items())
        out_headers += [("Set-Cookie", c) for c in response.get("cookies") or []]
        return int(response.get("statusCode", 200)), out_headers, response_body(response)

    def serve(self, host: str, port: int) -> ThreadingHTTPServer:
        gateway = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Keep-alive clients (browsers, httpx) otherwise wait ~40 ms per request: the
            # body, a second small send after the headers, is held back by Nagle until
            # the client's delayed ACK. So: no Nagle, and each response in one send.
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._reply(*error_reply(413, "too_large", f"is over {MAX_BODY} bytes", "body"))
                    return
                body = self.rfile.read(length) if length else b""
                status, headers, payload = gateway.call(
                    self.command, self.path, self._headers(), body, self.client_address[0]
                )
                self._reply(status, headers, payload)

            def _headers(self) -> dict[str, str]:
                # As API Gateway does: tell the app how the caller reached it (plain HTTP here).
                return {k: v for k, v in self.headers.items() if k.lower() != "x-forwarded-proto"} | {
                    "X-Forwarded-Proto": "http"
                }

            def _reply(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
                socket_writer, self.wfile = self.wfile, io.BytesIO()  # the status line and headers, collected
                try:
                    self.send_response(status)
                    for key, value in headers:
                        if key.lower() not in ("content-length", "connection"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    head = self.wfile.getvalue()
                finally:
                    self.wfile = socket_writer
                self.wfile.write(head + payload)  # one send: headers and body together

            def __getattr__(self, name: str) -> Any:
                # Every method reaches the router (API Gateway's ANY), not just the common ones.
                if name.startswith("do_"):
                    return self._handle
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

        server = ThreadingHTTPServer((host, port), RequestHandler)
        server.daemon_threads = True
        return server


LOCAL_URL = "http://127.0.0.1:3000"


def servers(local_url: str = LOCAL_URL) -> list[dict[str, Any]]:
    """Where the API answers: the local cloud, and a deployed stack (its ApiUrl output)."""
    return [
        {"url": local_url, "description": "The local cloud (`make dev`)"},
        {
            "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
            "description": "A deployed stack: the `ApiUrl` output of `sam deploy`",
            "variables": {
                "apiId": {"default": "abc123", "description": "The HTTP API's id"},
                "region": {"default": "eu-west-1", "description": "The stack's AWS region"},
            },
        },
    ]


def merged_openapi(apps: list[Any], local_url: str = LOCAL_URL) -> dict[str, Any]:
    """One OpenAPI document from every function's FastAPI app."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "fxcrm API",
            "version": "0.1.0",
            "description": "The combined API of every fxcrm function, as served by the local cloud.",
        },
        "servers": servers(local_url),
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
    }
    for app in apps:
        document = app.openapi()
        for path, operations in document.get("paths", {}).items():
            merged["paths"].setdefault(path, {}).update(operations)
        for section in ("schemas", "securitySchemes"):
            for name, schema in document.get("components", {}).get(section, {}).items():
                # Two functions may share a model, but not a name for two different models.
                if merged["components"][section].setdefault(name, schema) != schema:
                    raise ValueError(f"two functions define different {section} named {name}")
    return merged


def json_endpoint(produce: Callable[[dict[str, list[str]]], Any]) -> DevEndpoint:
    def endpoint(query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        try:
            return 200, "application/json", json.dumps(produce(query)).encode()
        except ValueError as error:
            return 400, "application/json", json.dumps({"code": "bad_request", "message": str(error)}).encode()

    return endpoint
