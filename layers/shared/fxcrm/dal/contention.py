"""DynamoDB's write conflicts, retried in one place for every DynamoDB call.

Two transactions on one item at once: DynamoDB cancels one of them with a
`TransactionConflict` reason (and a plain write on an item a transaction is
changing fails with `TransactionConflictException`). Nothing was written, so
the call is safe to send again. Every DynamoDB client fxcrm makes
(`fxcrm.dal.aws`) gets `retry_conflicts` on botocore's `needs-retry` event:
botocore resends the same request after a jittered backoff (full jitter, so
the losers of one conflict do not collide again in step), a bounded number of
times. After the last attempt it raises `Contended`, which the API answers as
503 `contended` with the stable error body, never a 500; a flow's step sees a
`ProviderUnavailable` as for any passing outage."""

import random
from typing import Any

from fxcrm.core.errors import ProviderUnavailable
from fxcrm.dal.errors import DataError

MAX_ATTEMPTS = 6
BASE_SECONDS = 0.02
CAP_SECONDS = 0.5
_UNIQUE = "fxcrm-retry-conflicts"


class Contended(DataError, ProviderUnavailable):
    """Still conflicting after every attempt: nothing was written."""

    def __init__(self, operation: str) -> None:
        ProviderUnavailable.__init__(
            self, "the same accounts are being changed by other requests; try again in a moment", None, "contended"
        )
        self.operation = operation


def is_conflict(parsed: dict[str, Any]) -> bool:
    code = parsed.get("Error", {}).get("Code")
    if code == "TransactionConflictException":
        return True
    reasons = parsed.get("CancellationReasons") or []
    return code == "TransactionCanceledException" and any(r.get("Code") == "TransactionConflict" for r in reasons)


def backoff(attempts: int) -> float:
    """Full jitter: anywhere up to the exponential bound, so retries spread out."""
    return random.uniform(0, min(CAP_SECONDS, BASE_SECONDS * 2**attempts))  # noqa: S311 - spacing, not a secret


def retry_conflicts(response: Any, attempts: int, operation: Any, **_: Any) -> float | None:
    """botocore's `needs-retry` hook: seconds to wait before sending again, or None."""
    if response is None:
        return None
    _, parsed = response
    if not isinstance(parsed, dict) or not is_conflict(parsed):
        return None
    if attempts >= MAX_ATTEMPTS:
        raise Contended(str(getattr(operation, "name", "")))
    return backoff(attempts)


def install(client: Any) -> None:
    client.meta.events.register("needs-retry.dynamodb", retry_conflicts, unique_id=_UNIQUE)
