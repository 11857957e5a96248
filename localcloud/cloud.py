"""Start and stop the whole local cloud in this process."""

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import boto3

from localcloud.functions import load_stack, mount_layers
from localcloud.gateway import DevEndpoint, Gateway, Route, json_endpoint, merged_openapi
from localcloud.moto_patches import make_dynamodb_atomic
from localcloud.provision import REGION, Stack, provision
from localcloud.template import http_routes, rate_seconds, schedules

# What a tool outside the process needs to reach the local AWS (credentials are moto's dummies).
LOCAL_AWS = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
)

# Swagger UI's assets come from a pinned package (fastapi-offline ships swagger-ui-dist 5),
# served same-origin, and the page has no inline script: /docs works without internet
# and under a CSP of script-src 'self'.
SWAGGER_ASSETS = {
    "/docs/swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "/docs/swagger-ui.css": ("swagger-ui.css", "text/css; charset=utf-8"),
    "/docs/favicon.png": ("favicon.png", "image/png"),
}
SWAGGER_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fxcrm API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/swagger-ui.css"><link rel="icon" href="/docs/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/swagger-initializer.js"></script>
</body></html>
"""
SWAGGER_INITIALIZER = b"""window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
});
"""


def swagger_endpoints() -> dict[str, DevEndpoint]:
    """`/docs` and its assets, read from the package once, on first use."""
    from functools import cache
    from importlib.resources import files

    @cache
    def asset(name: str) -> bytes:
        return (files("fastapi_offline") / "static" / name).read_bytes()

    def serve(name: str, content_type: str) -> DevEndpoint:
        return lambda _: (200, content_type, asset(name))

    endpoints: dict[str, DevEndpoint] = {
        "/docs": lambda _: (200, "text/html; charset=utf-8", SWAGGER_PAGE),
        "/docs/swagger-initializer.js": lambda _: (200, "text/javascript; charset=utf-8", SWAGGER_INITIALIZER),
    }
    endpoints |= {path: serve(name, content_type) for path, (name, content_type) in SWAGGER_ASSETS.items()}
    return endpoints


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalCloud:
    port: int = 3000
    moto_port: int = 0
    host: str = "127.0.0.1"
    seed: bool = True
    stack: Stack | None = None
    seeded: list[Any] = field(default_factory=list)
    _moto: Any = None
    _server: Any = None
    _dispatcher: Any = None
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def moto_url(self) -> str:
        return f"http://{self.host}:{self.moto_port}"

    def start(self) -> "LocalCloud":
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        self.moto_port = self.moto_port or free_port(self.host)
        self.port = self.port or free_port(self.host)
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ENDPOINT_URL": self.moto_url,
                # moto's Step Functions interpreter calls back into this server.
                "MOTO_PORT": str(self.moto_port),
                "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
            }
        )
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines
        self._moto = ThreadedMotoServer(ip_address=self.host, port=self.moto_port, verbose=False)
        self._moto.start()
        make_dynamodb_atomic()
        default_user_config["lambda"] = {"use_docker": False}
        default_user_config["stepfunctions"] = {"execute_state_machine": True}

        self.stack = provision(boto3.Session())
        os.environ.update(self.stack.environment())
        mount_layers()
        self._reset_process_caches()

        dispatcher, modules = load_stack(self.stack)
        apps = [module.app for module in modules if getattr(module, "app", None) is not None]
        dispatcher.install_into_moto()

        routes = [
            Route.make(method, path, self.stack.functions[fn])
            for method, path, fn in http_routes(self.stack.resolver.template)
        ]
        openapi = merged_openapi(apps, self.url)  # its first server: this cloud
        dev = {
            "/openapi.json": json_endpoint(lambda _: openapi),
            **swagger_endpoints(),
            "/_dev/health": json_endpoint(lambda _: {"status": "ok"}),
            "/_dev/mailbox": json_endpoint(_mailbox),
            # SES's bounce or complaint for an address, delivered to the subscribed function
            "/_dev/mail/bounce": json_endpoint(self.mail_event),
            "/_dev/captcha": json_endpoint(_captcha_ticket),
            # where the local AWS is, for tools such as `make verify-ledger`
            "/_dev/environment": json_endpoint(
                lambda _: self.stack.environment() | {k: os.environ[k] for k in LOCAL_AWS} if self.stack else {}
            ),
            "/_dev/schedules/run": json_endpoint(lambda query: self.run_schedule((query.get("function") or [""])[0])),
        }
        if self.seed:
            from localcloud.seed import seed_demo_data

            self.seeded = seed_demo_data(int(time.time()))
        self._dispatcher = dispatcher
        self._server = Gateway(routes, dispatcher.handlers, dev).serve(self.host, self.port)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self._start_schedules()
        return self

    def run_schedule(self, logical_id: str) -> Any:
        """Invoke a scheduled function now, with the event EventBridge Scheduler sends."""
        assert self.stack is not None
        if logical_id not in [name for name, _ in schedules(self.stack.resolver.template)]:
            raise ValueError(f"no scheduled function {logical_id!r}; pass ?function=<logical id>")
        if logical_id not in self.stack.functions:  # a state machine: run it, answer its output
            return run_state_machine(self.stack.resolver.ref(logical_id))
        event = {"source": "localcloud.scheduler", "detail-type": "Scheduled Event", "detail": {}}
        return self._dispatcher.invoke(self.stack.functions[logical_id], event)

    def mail_event(self, query: dict[str, list[str]]) -> Any:
        """`?to=<address>&kind=bounce|complaint&bounce_type=Permanent|Transient`."""
        from localcloud.mail_events import publish

        assert self.stack is not None
        to = (query.get("to") or [""])[0]
        if "@" not in to:
            raise ValueError("pass ?to=<the address that bounced>")
        kind = (query.get("kind") or ["bounce"])[0]
        bounce_type = (query.get("bounce_type") or ["Permanent"])[0]
        return publish(self.stack, self._dispatcher.invoke, kind, to, bounce_type)

    def _start_schedules(self) -> None:
        assert self.stack is not None
        for logical_id, expression in schedules(self.stack.resolver.template):
            every = rate_seconds(expression)
            if every is None:
                print(f"  schedule {logical_id} ({expression}) runs only on demand locally", flush=True)
                continue
            threading.Thread(target=self._every, args=(logical_id, every), daemon=True).start()

    def _every(self, logical_id: str, seconds: int) -> None:
        while not self._stopping.wait(seconds):
            try:
                self.run_schedule(logical_id)
            except Exception:  # a failed run is logged and the timer goes on, as with Scheduler
                import traceback

                traceback.print_exc()

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._moto is not None:
            self._moto.stop()

    @staticmethod
    def _reset_process_caches() -> None:
        from fxcrm.adapters import secrets
        from fxcrm.core.settings import get_settings
        from fxcrm.dal import aws

        get_settings.cache_clear()
        aws.reset_clients()
        secrets.clear_cache()


def run_state_machine(arn: str, payload: dict[str, Any] | None = None, poll_seconds: float = 0.2) -> Any:
    """Start an execution (as a schedule does) and wait for it: its output, or an
    error naming how it failed."""
    import json
    import uuid

    sfn = boto3.client("stepfunctions")
    name = f"run-{uuid.uuid4().hex}"  # moto would call every unnamed execution "None"
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload or {}))["executionArn"]
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        time.sleep(poll_seconds)
    if described["status"] != "SUCCEEDED":
        raise RuntimeError(f"{arn} {described['status']}: {described.get('error')} {described.get('cause')}")
    return json.loads(described.get("output") or "null")


def _mailbox(query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Mail SES accepted, newest last (`body` the text part, `html` the HTML
    part); `?to=` filters by recipient."""
    from localcloud.mail_events import sent_mail

    return [mail.as_json() for mail in sent_mail((query.get("to") or [""])[0])]


def _captcha_ticket(query: dict[str, list[str]]) -> dict[str, Any]:
    """The local captcha widget: solves for `randstr` and returns the ticket."""
    from fxcrm.adapters.captcha import local_ticket
    from fxcrm.adapters.secrets import get_secret_json
    from fxcrm.core import clock
    from fxcrm.core.settings import get_settings

    randstr = (query.get("randstr") or [""])[0]
    if not randstr:
        raise ValueError("pass ?randstr=<any random string>")
    settings = get_settings()
    key = get_secret_json(settings.captcha_secret_name, settings.secret_cache_seconds)["local_key"]
    return {
        "app_id": settings.captcha_app_id,
        "randstr": randstr,
        "ticket": local_ticket(key, settings.captcha_app_id, randstr, clock.now()),
    }
