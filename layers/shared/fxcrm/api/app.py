"""The FastAPI app factory and the Lambda entry point every function uses."""

import re
from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from mangum import Mangum

from fxcrm.adapters import snapstart
from fxcrm.api import errors
from fxcrm.core.observability import logger, metrics, tracer


def operation_id(route: APIRoute) -> str:
    """A short, stable camelCase operation id from the route function's name
    (`create_withdrawal` -> `createWithdrawal`), not FastAPI's default of name,
    path and method; generated clients name their functions after it. The
    combined document's ids are tested unique (tests/contract)."""
    first, *rest = re.split(r"[_\W]+", route.name.strip("_"))
    return first.lower() + "".join(word[:1].upper() + word[1:] for word in rest)


def create_app(title: str, routers: Sequence[APIRouter], description: str = "") -> FastAPI:
    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        docs_url=None,  # the local cloud serves one combined /docs
        redoc_url=None,
        generate_unique_id_function=operation_id,
        # One schema per model, not `-Input`/`-Output` twins that clients cannot tell apart.
        separate_input_output_schemas=False,
    )
    for router in routers:
        app.include_router(router)
    errors.install(app, [route for router in routers for route in router.routes if isinstance(route, APIRoute)])
    document = app.openapi  # made once, on the first request for it
    app.openapi = lambda: errors.with_error_schemas(document())  # type: ignore[method-assign]
    return app


def lambda_handler(app: FastAPI, service: str) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """Wrap the app for API Gateway HTTP API (payload 2.0) with Powertools."""
    asgi = Mangum(app, lifespan="off", api_gateway_base_path="/")
    snapstart.install()  # a SnapStart copy refreshes what init cached

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        logger.append_keys(service_group=service)
        # An invocation that recorded no metric leaves its dimensions behind at flush.
        metrics.clear_metrics()
        metrics.add_dimension(name="function", value=service)
        return dict(asgi(event, context))  # type: ignore[arg-type]  # Powertools' and Mangum's context types describe the same object

    return handler
