"""The local cloud's template reader, resolver, router and event builder."""

import base64
import json

from localcloud.events import http_event
from localcloud.gateway import Gateway, Route
from localcloud.template import Resolver, http_routes, load_template


def test_template_short_tags_and_resolution() -> None:
    template = load_template()
    resolver = Resolver(template, "eu-west-1", "111122223333", "stack", {"Stage": "prod"})
    resolver.refs["DomainTable"] = "stack-DomainTable"
    env = dict(template["Globals"]["Function"]["Environment"]["Variables"].items())
    assert env["TABLE_NAME"] == {"Ref": "DomainTable"}
    assert resolver.resolve(env["TABLE_NAME"]) == "stack-DomainTable"
    assert resolver.resolve(env["POWERTOOLS_LOG_LEVEL"]) == "INFO"  # Fn::If on IsProd
    resolver.parameters["Stage"] = "dev"
    assert resolver.resolve(env["POWERTOOLS_LOG_LEVEL"]) == "DEBUG"
    resolver.refs["HttpApi"] = "abc123"
    assert (
        resolver.resolve(template["Outputs"]["ApiUrl"]["Value"]) == "https://abc123.execute-api.eu-west-1.amazonaws.com"
    )


def test_routes_come_from_the_template() -> None:
    routes = http_routes(load_template())
    assert ("POST", "/auth/login", "AuthFunction") in routes
    assert ("GET", "/auth/permissions/{portal}", "AuthFunction") in routes


def test_router_prefers_the_literal_route_and_extracts_parameters() -> None:
    gateway = Gateway(
        [
            Route.make("GET", "/auth/permissions/{portal}", "f1"),
            Route.make("GET", "/auth/permissions/client", "f2"),
            Route.make("GET", "/files/{proxy+}", "f3"),
        ],
        {},
        {},
    )
    route, params, _ = gateway.match("GET", "/auth/permissions/client")
    assert route is not None and route.function == "f2"
    route, params, _ = gateway.match("GET", "/auth/permissions/ib")
    assert route is not None and route.function == "f1" and params == {"portal": "ib"}
    route, params, _ = gateway.match("GET", "/files/a/b.pdf")
    assert route is not None and params == {"proxy": "a/b.pdf"}
    route, _, path_known = gateway.match("POST", "/auth/permissions/ib")
    assert route is None and path_known
    status, _, body = gateway.call("GET", "/nowhere", {}, b"", "127.0.0.1")
    assert status == 404
    assert json.loads(body) == {"code": "not_found", "message": "no such path: /nowhere", "field": "path"}


def test_payload_v2_event_shape() -> None:
    event = http_event(
        "POST",
        "/auth/login",
        "POST /auth/login",
        {"Content-Type": "application/json", "X-A": "1", "Cookie": "a=1; b=2"},
        "x=1&x=2&y=3",
        b'{"k":1}',
        "198.51.100.7",
    )
    assert event["version"] == "2.0" and event["routeKey"] == "POST /auth/login"
    assert event["headers"]["x-a"] == "1" and "cookie" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["queryStringParameters"] == {"x": "1,2", "y": "3"}
    assert event["requestContext"]["http"]["sourceIp"] == "198.51.100.7"
    assert event["body"] == '{"k":1}' and event["isBase64Encoded"] is False
    binary = http_event("POST", "/f", "POST /f", {"Content-Type": "image/png"}, "", b"\x89PNG")
    assert binary["isBase64Encoded"] and base64.b64decode(binary["body"]) == b"\x89PNG"
