"""Call the functions as API Gateway would, in process: the request goes
through the template's routes, becomes a payload-2.0 event and runs the
real handler (Mangum and all)."""

import json
from dataclasses import dataclass
from typing import Any

from localcloud.functions import Handler
from localcloud.gateway import Gateway, Route
from localcloud.template import http_routes


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ApiClient:
    def __init__(self, template: dict[str, Any], functions: dict[str, str], handlers: dict[str, Handler]) -> None:
        routes = [Route.make(method, path, functions[fn]) for method, path, fn in http_routes(template)]
        self.gateway = Gateway(routes, handlers, {})

    def request(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        source_ip: str = "203.0.113.10",
        body: bytes | None = None,
    ) -> Reply:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if body is None:
            body = json.dumps(json_body).encode() if json_body is not None else b""
        status, out_headers, payload = self.gateway.call(method, path, all_headers, body, source_ip)
        return Reply(status, {k.lower(): v for k, v in out_headers}, payload)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json_body: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, json_body, **kwargs)

    def put(self, path: str, json_body: Any = None, **kwargs: Any) -> Reply:
        return self.request("PUT", path, json_body, **kwargs)
