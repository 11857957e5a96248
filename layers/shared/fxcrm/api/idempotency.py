"""`Idempotency-Key` for money-moving POSTs, with Powertools idempotency and
its own table: a replay of a finished request returns the stored response;
the same key with another body is a 422; the same key while the first is
still running is a 409 (retry shortly). Keys are scoped by caller and route."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from fastapi import Depends, Header, Request

from fxcrm.core.caller import Principal
from fxcrm.core.errors import Conflict, InvalidInput
from fxcrm.core.settings import get_settings
from fxcrm.dal import aws

KEY_PATTERN = r"^[A-Za-z0-9_.:-]{8,128}$"


@dataclass(frozen=True)
class Idempotency:
    key: str
    lambda_context: Any  # lets Powertools bound an in-progress record by the invocation's time left


def _idempotency(
    request: Request,
    key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            pattern=KEY_PATTERN,
            description="A unique key per intended operation (8-128 characters, e.g. a UUID); resend it on retries",
        ),
    ],
) -> Idempotency:
    return Idempotency(key, request.scope.get("aws.context"))


IdempotencyKey = Annotated[Idempotency, Depends(_idempotency)]


def run_once(
    principal: Principal,
    once_key: Idempotency,
    operation: str,
    body: dict[str, Any],
    action: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    settings = get_settings()
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=aws.client("dynamodb")
    )
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=24 * 3600,
    )
    if once_key.lambda_context is not None:
        config.register_lambda_context(once_key.lambda_context)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="request", persistence_store=persistence, config=config, key_prefix=operation
    )
    def once(request: dict[str, Any]) -> dict[str, Any]:
        return action()

    try:
        result: dict[str, Any] = once(request={"key": f"{principal.user_id}:{once_key.key}", "body": body})
    except IdempotencyValidationError as error:
        raise InvalidInput(
            "this Idempotency-Key was used with a different request", "Idempotency-Key", "idempotency_key_reused"
        ) from error
    except IdempotencyAlreadyInProgressError as error:
        raise Conflict(
            "a request with this Idempotency-Key is still running; retry shortly",
            "Idempotency-Key",
            "idempotency_in_progress",
        ) from error
    return result
