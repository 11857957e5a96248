"""Load each function's handler as the template names it, and answer moto's
Lambda invokes (from Step Functions or `lambda:Invoke`) with those handlers
in this process."""

import asyncio
import importlib.util
import json
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localcloud.events import LocalContext
from localcloud.template import ROOT, local_path

Handler = Callable[[dict[str, Any], Any], Any]

SHARED_LAYER = ROOT / "layers" / "shared"


_moto_invocation = threading.local()


def invoked_by_moto() -> bool:
    """Whether this thread is running a Lambda invoke that came through moto
    (a state machine's task), rather than a request."""
    return bool(getattr(_moto_invocation, "active", False))


def mount_layers(paths: list[Path] | None = None) -> None:
    """Make layers importable, as Lambda does by mounting /opt/python: the
    shared layer by default. (The deps layer's packages are this virtualenv's.)"""
    for path in paths if paths is not None else [SHARED_LAYER]:
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def load_function(logical_id: str, properties: dict[str, Any]) -> tuple[Handler, Any]:
    """Import `<code>/<module>.py` of a transformed AWS::Lambda::Function under a
    unique module name (every function has an `app.py`); return its handler and
    the module."""
    mount_layers()
    module_name, attribute = str(properties["Handler"]).rsplit(".", 1)
    path = local_path(properties["Code"]) / f"{module_name.replace('.', '/')}.py"
    spec = importlib.util.spec_from_file_location(f"fxcrm_function_{logical_id}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return getattr(module, attribute), module


def invoke_handler(handler: Handler, event: Any, function_name: str, timeout_seconds: int = 15) -> Any:
    """Run one invocation as a Lambda runtime thread would: with its own event
    loop (Mangum needs one; the gateway's and moto's threads have none), and a
    context that counts down the function's timeout."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return handler(event, LocalContext(function_name, timeout_seconds=timeout_seconds))
    finally:
        asyncio.set_event_loop(None)
        loop.close()


class Dispatcher:
    """Maps physical function names to handlers and serves moto's invoke."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.timeouts: dict[str, int] = {}  # the template's Timeout (long runs stop in time by it)
        self.guard: Any = None  # localcloud.iam.Guard, set by load_stack
        # physical function name -> the SQS queue URL of its EventInvokeConfig's OnFailure
        self.on_failure: dict[str, str] = {}

    def add(self, physical_name: str, handler: Handler, timeout_seconds: int = 15) -> None:
        self.handlers[physical_name] = handler
        self.timeouts[physical_name] = timeout_seconds

    def invoke(self, function_name: str, payload: Any) -> Any:
        name = function_name.split(":function:")[-1].split(":")[0]
        if name not in self.handlers:
            raise KeyError(f"no local handler for Lambda function {function_name}")
        return invoke_handler(self.handlers[name], payload, name, self.timeouts.get(name, 15))

    def send_to_on_failure(self, function_name: str, payload: Any, error: Exception) -> None:
        """As Lambda does once an asynchronous invoke has failed (locally without
        its two retries): the event and the error to the on-failure destination."""
        name = function_name.split(":function:")[-1].split(":")[0]
        queue = self.on_failure.get(name)
        if queue is None:
            return
        import boto3

        record = {
            "requestContext": {
                "functionArn": function_name,
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 1,
            },
            "requestPayload": payload,
            "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
        }
        boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(record, default=str))

    def install_into_moto(self) -> None:
        """Replace the body of moto's Docker-free Lambda backend's invoke."""
        from moto.awslambda_simple.models import LambdaSimpleBackend

        from localcloud.moto_patches import check_moto_version, signature_of

        check_moto_version()  # a moto internal, like the DynamoDB patches
        names = ("function_name", "body", "headers", "response_headers")
        signature = signature_of(LambdaSimpleBackend.invoke, *names)
        dispatcher = self

        def invoke(backend: Any, *args: Any, **kwargs: Any) -> bytes:
            arguments = signature.bind(backend, *args, **kwargs).arguments
            function_name: str = arguments["function_name"]
            body, headers, response_headers = (arguments[name] for name in names[1:])
            payload = json.loads(body) if body else {}
            if (headers or {}).get("X-Amz-Invocation-Type") == "Event":
                # As Lambda does for an asynchronous invoke: answer at once, run later.
                threading.Thread(target=_run_async, args=(function_name, payload), daemon=True).start()
                return b""
            _moto_invocation.active = True
            try:
                return json.dumps(dispatcher.invoke(function_name, payload)).encode()
            except Exception as error:
                # As Lambda reports an unhandled exception: Step Functions reads
                # the error name from errorType (Retry/Catch match on it).
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode()
            finally:
                _moto_invocation.active = False

        def _run_async(function_name: str, payload: Any) -> None:
            _moto_invocation.active = True
            try:
                dispatcher.invoke(function_name, payload)
            except Exception as error:
                logging.getLogger("localcloud").exception("asynchronous invoke of %s failed", function_name)
                dispatcher.send_to_on_failure(function_name, payload, error)
            finally:
                _moto_invocation.active = False

        invoke.__wrapped__ = LambdaSimpleBackend.invoke  # type: ignore[attr-defined]  # its signature, if installed again
        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign,assignment]


def load_stack(stack: Any) -> tuple[Dispatcher, list[Any]]:
    """Every function of a provisioned stack: a dispatcher holding their
    handlers, each held to its IAM role (`localcloud.iam`), and their modules
    (for the FastAPI apps among them)."""
    from localcloud.iam import Guard

    mount_layers()
    from fxcrm.dal import aws

    dispatcher = Dispatcher()
    dispatcher.guard = Guard(stack.resolver, list(stack.functions))
    aws.on_client(dispatcher.guard.hook)
    queues = {
        stack.resolver.get_att(q, "Arn"): str(stack.resolver.ref(q))
        for q, _ in stack.resolver.resources("AWS::SQS::Queue")
    }
    for _, config in stack.resolver.resources("AWS::Lambda::EventInvokeConfig"):
        properties = stack.resolver.resolve(config["Properties"])
        destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination in queues:
            dispatcher.on_failure[str(properties["FunctionName"])] = queues[destination]
    modules = []
    for logical_id, physical in stack.functions.items():
        mount_layers(stack.resolver.layer_paths(logical_id))
        properties = stack.resolver.properties(logical_id)
        handler, module = load_function(logical_id, properties)
        dispatcher.add(physical, dispatcher.guard.wrap(logical_id, handler), int(properties.get("Timeout", 3)))
        modules.append(module)
    return dispatcher, modules
