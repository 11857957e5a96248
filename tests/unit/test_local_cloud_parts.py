"""The local cloud's template reader, resolver, router and event builder."""

import base64
import json
from typing import Any

from localcloud.events import http_event
from localcloud.functions import load_function
from localcloud.gateway import Gateway, Route
from localcloud.iam import allows, role_statements
from localcloud.template import ROOT, Resolver, cloudformation, http_routes, load_template, local_path, schedules


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


def test_the_gateway_writes_each_response_in_one_send_without_nagle() -> None:
    """A keep-alive client waited ~40 ms per request when the body followed the
    headers in a second small send (Nagle holding it for the delayed ACK)."""
    import http.client
    import socket
    import threading

    class Recorded(socket.socket):
        sends: list[tuple[bytes, int]] = []  # each send, and TCP_NODELAY as it was sent

        def _record(self, data: Any) -> None:
            self.sends.append((bytes(data), self.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))

        def send(self, data: Any, *args: Any) -> int:
            self._record(data)
            return super().send(data, *args)

        def sendall(self, data: Any, *args: Any) -> None:
            self._record(data)
            super().sendall(data, *args)

    body = b'{"status":"ok"}'
    gateway = Gateway([], {}, {"/probe": lambda _: (200, "application/json", body)})
    server = gateway.serve("127.0.0.1", 0)
    accepted: list[Recorded] = []

    def get_request() -> tuple[socket.socket, Any]:
        sock, address = server.socket.accept()
        recorded = Recorded(sock.family, sock.type, sock.proto, fileno=sock.detach())
        accepted.append(recorded)
        return recorded, address

    server.get_request = get_request  # type: ignore[method-assign]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1])
        for _ in range(2):  # two requests on one keep-alive connection
            connection.request("GET", "/probe")
            reply = connection.getresponse()
            assert (reply.status, reply.read()) == (200, body)
        connection.close()
    finally:
        server.shutdown()
        server.server_close()
    assert len(accepted) == 1
    # one send per response, each the whole response, with Nagle off
    assert len(Recorded.sends) == 2
    assert all(data.startswith(b"HTTP/1.1 200") and data.endswith(body) and nodelay for data, nodelay in Recorded.sends)


def test_swagger_ui_is_served_from_the_local_cloud_itself() -> None:
    """/docs was a blank page offline: its script and styles came from a CDN."""
    import re

    from localcloud.cloud import swagger_endpoints

    gateway = Gateway([], {}, swagger_endpoints())
    status, headers, page = gateway.call("GET", "/docs", {}, b"", "127.0.0.1")
    assert status == 200 and dict(headers)["Content-Type"].startswith("text/html")
    references = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', page.decode())
    assert "/docs/swagger-ui-bundle.js" in references and "/docs/swagger-initializer.js" in references
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.decode())  # no inline script: a strict CSP allows it
    # every asset the page loads is same-origin (a path, not a host), and is there
    assert all(ref.startswith("/") and not ref.startswith("//") for ref in references), references
    expected = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for ref in references:
        status, headers, body = gateway.call("GET", ref, {}, b"", "127.0.0.1")
        kind = next(v for k, v in expected.items() if ref.endswith(k))
        assert status == 200 and dict(headers)["Content-Type"].startswith(kind) and len(body) > 100, ref
    bundle = gateway.call("GET", "/docs/swagger-ui-bundle.js", {}, b"", "127.0.0.1")[2]
    initializer = gateway.call("GET", "/docs/swagger-initializer.js", {}, b"", "127.0.0.1")[2]
    assert b"SwaggerUIBundle" in bundle and b'url: "/openapi.json"' in initializer


# A SAM template using what the local cloud once could not read itself: Globals
# for the handler and code, the implicit HTTP API, a policy template, a
# conditional property and both kinds of schedule.
SAM_TEMPLATE: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Transform": "AWS::Serverless-2016-10-31",
    "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
    "Globals": {
        "Function": {
            "Handler": "app.handler",
            "Runtime": "python3.13",
            "CodeUri": "functions/auth/",
            "Environment": {"Variables": {"TABLE_NAME": {"Ref": "Table"}}},
        }
    },
    "Resources": {
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            },
        },
        "Web": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Environment": {"Variables": {"MODE": {"Fn::If": ["IsProd", "strict", {"Ref": "AWS::NoValue"}]}}},
                "Policies": [{"DynamoDBReadPolicy": {"TableName": {"Ref": "Table"}}}],
                "Events": {
                    "Login": {"Type": "HttpApi", "Properties": {"Method": "POST", "Path": "/auth/login"}},
                    "Other": {"Type": "HttpApi", "Properties": {"Method": "ANY", "Path": "/auth/{proxy+}"}},
                    "Nightly": {"Type": "Schedule", "Properties": {"Schedule": "cron(0 2 * * ? *)"}},
                    "Hourly": {"Type": "ScheduleV2", "Properties": {"ScheduleExpression": "rate(1 hour)"}},
                },
            },
        },
    },
}


def _resolved(cfn: dict[str, Any], stage: str = "dev") -> Resolver:
    resolver = Resolver(cfn, "us-east-1", "111122223333", "stack", {"Stage": stage})
    resolver.refs["Table"] = "stack-Table"
    resolver.attrs[("Table", "Arn")] = "arn:aws:dynamodb:us-east-1:111122223333:table/stack-Table"
    return resolver


def test_the_local_cloud_reads_routes_and_schedules_from_the_transform() -> None:
    assert sorted(http_routes(SAM_TEMPLATE)) == [("ANY", "/auth/{proxy+}", "Web"), ("POST", "/auth/login", "Web")]
    assert sorted(schedules(SAM_TEMPLATE)) == [("Web", "cron(0 2 * * ? *)"), ("Web", "rate(1 hour)")]


def test_functions_get_globals_code_env_and_expanded_policy_templates() -> None:
    cfn = cloudformation(SAM_TEMPLATE)
    resolver = _resolved(cfn)
    assert resolver.function_environment("Web") == {"TABLE_NAME": "stack-Table"}  # MODE left out (NoValue)
    assert _resolved(cfn, "prod").function_environment("Web") == {"TABLE_NAME": "stack-Table", "MODE": "strict"}
    handler, module = load_function("Web", resolver.properties("Web"))
    assert callable(handler) and module.__file__ == str(ROOT / "functions" / "auth" / "app.py")
    resolver.refs["WebRole"] = "WebRole"
    statements = role_statements(resolver, "Web")
    table = "arn:aws:dynamodb:us-east-1:111122223333:table/stack-Table"
    assert allows(statements, "dynamodb:GetItem", table)
    assert not allows(statements, "dynamodb:PutItem", table)


def test_the_resolver_knows_the_condition_functions() -> None:
    resolver = _resolved(cloudformation(SAM_TEMPLATE), "prod")
    stage_is_prod = {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert resolver.resolve({"Fn::Not": [stage_is_prod]}) is False
    assert resolver.resolve({"Fn::And": [stage_is_prod, {"Fn::Not": [{"Condition": "IsProd"}]}]}) is False
    assert resolver.resolve({"Fn::Or": [{"Fn::Not": [stage_is_prod]}, {"Condition": "IsProd"}]}) is True
    assert resolver.resolve(["a", {"Ref": "AWS::NoValue"}, {"Ref": "Table"}]) == ["a", "stack-Table"]


def test_template_yaml_builds_every_function_from_the_transform() -> None:
    """Each function of template.yaml, as the local cloud loads it, has its
    handler file, a role with its own statements and the shared layer mounted."""
    cfn = cloudformation()
    resolver = Resolver(cfn, "us-east-1", "111122223333", "stack")
    functions = [name for name, _ in resolver.resources("AWS::Lambda::Function")]
    assert len(functions) == len(
        [n for n, r in load_template()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"]
    )
    for name in functions:
        props = resolver.properties(name)
        assert (local_path(props["Code"]) / "app.py").is_file(), name
        assert ROOT / "layers" / "shared" in resolver.layer_paths(name), name
        assert resolver.role_of(name) == f"{name}Role"
        assert resolver.properties(f"{name}Role")["Policies"], name


def test_the_transform_takes_the_local_parameters() -> None:
    """What SAM writes into its output from a parameter (the API's CORS origins)
    follows the parameters the local cloud runs with, not only the defaults."""

    def origins(cfn: dict[str, Any]) -> Any:
        return cfn["Resources"]["HttpApi"]["Properties"]["Body"]["x-amazon-apigateway-cors"]["allowOrigins"]

    assert origins(cloudformation()) == ["*"]
    assert origins(cloudformation(parameters={"AllowedOrigin": "https://portal.acme-fx.com"})) == [
        "https://portal.acme-fx.com"
    ]


def test_a_resource_whose_condition_is_false_does_not_exist() -> None:
    """As CloudFormation: the alarm e-mail subscription only with an AlarmEmail."""
    cfn = cloudformation()
    without = Resolver(cfn, "us-east-1", "111122223333", "stack", {"AlarmEmail": ""})
    assert "AlarmEmailSubscription" not in dict(without.resources("AWS::SNS::Subscription"))
    mailed = Resolver(cfn, "us-east-1", "111122223333", "stack", {"AlarmEmail": "ops@acme-fx.com"})
    assert "AlarmEmailSubscription" in dict(mailed.resources("AWS::SNS::Subscription"))


def test_an_invocation_counts_down_the_functions_own_timeout() -> None:
    """Long runs (settlement, a TradeSync shard) stop by the time left, so the local
    context must have the template's Timeout, not a default."""
    from localcloud.functions import Dispatcher

    dispatcher, seen = Dispatcher(), []
    dispatcher.add("fxcrm-local-long", lambda event, context: seen.append(context.get_remaining_time_in_millis()), 900)
    dispatcher.invoke("arn:aws:lambda:us-east-1:123456789012:function:fxcrm-local-long", {})
    assert 15_000 < seen[0] <= 900_000
