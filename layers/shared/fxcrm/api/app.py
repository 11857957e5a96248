"""The FastAPI app factory and the Lambda entry point every function uses."""

from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from mangum import Mangum

from fxcrm.api import errors
from fxcrm.observability import logger, metrics, tracer


def create_app(title: str, routers: Sequence[APIRouter], description: str = "") -> FastAPI:
    app = FastAPI(
        title=title, description=description, version="0.1.0", docs_url=None, redoc_url=None
    )  # the local cloud serves one combined /docs
    for router in routers:
        app.include_router(router)
    errors.install(app, [route for router in routers for route in router.routes if isinstance(route, APIRoute)])
    return app


def lambda_handler(app: FastAPI, service: str) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """Wrap the app for API Gateway HTTP API (payload 2.0) with Powertools."""
    asgi = Mangum(app, lifespan="off", api_gateway_base_path="/")

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
