"""AWS calls per funding request (warm), held to the budgets in docs/performance.md."""

from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.support.api import ApiClient
from tests.support.aws_calls import AwsCalls
from tests.support.journeys import (
    Client,
    deposit,
    draft_deposit,
    idempotency_key,
    transfer_body,
    upload_receipt,
    withdrawal_body,
)

BUDGETS: dict[str, dict[str, int]] = {
    "GET /funding/currencies": {"dynamodb.GetItem": 2},
    "GET /funding/deposit-channels": {"dynamodb.GetItem": 1, "dynamodb.Query": 1},
    "GET /funding/payment-accounts": {"dynamodb.GetItem": 1, "dynamodb.Query": 1},
    # one Query per status (gsi1 sorts by status first); the total from the counters
    "GET /funding/deposits": {"dynamodb.GetItem": 1, "dynamodb.Query": 4, "dynamodb.BatchGetItem": 1},
    # the draft with its counts in one transaction
    "POST /funding/deposits": {
        "dynamodb.GetItem": 3,
        "dynamodb.PutItem": 1,
        "dynamodb.UpdateItem": 1,
        "dynamodb.TransactWriteItems": 1,
    },
    "POST /funding/deposits/submit": {
        "dynamodb.GetItem": 3,  # + the order, read for the status change that moves its keys and counts
        "dynamodb.PutItem": 1,
        "dynamodb.UpdateItem": 1,
        "dynamodb.TransactWriteItems": 2,
        "s3.HeadObject": 1,
        "s3.GetObject": 1,
        "stepfunctions.StartExecution": 1,
    },
    "POST /funding/withdrawals": {
        "dynamodb.GetItem": 7,  # + the funding settings: approvals needed are fixed at submission
        "dynamodb.PutItem": 1,
        "dynamodb.DeleteItem": 1,
        "dynamodb.UpdateItem": 2,  # one: the email code's attempt, taken before comparing
        "dynamodb.TransactWriteItems": 2,
        "stepfunctions.StartExecution": 1,
    },
    "POST /funding/transfers (under the threshold)": {
        "dynamodb.GetItem": 12,  # two status changes read the order first
        "dynamodb.PutItem": 1,
        "dynamodb.DeleteItem": 1,
        "dynamodb.UpdateItem": 4,  # one: the email code's attempt
        "dynamodb.TransactWriteItems": 6,  # two: the status changes with their counts
    },
}


def _measure(call: Callable[[], Any]) -> Counter[str]:
    with AwsCalls() as calls:
        call()
    return calls.counts


def test_funding_endpoint_budgets(api: ApiClient, admin: str, client: Client) -> None:
    token = client.token
    seen: dict[str, Counter[str]] = {}
    seen["GET /funding/currencies"] = _measure(lambda: api.get("/funding/currencies", token=token))
    seen["GET /funding/deposit-channels"] = _measure(lambda: api.get("/funding/deposit-channels", token=token))
    seen["GET /funding/payment-accounts"] = _measure(lambda: api.get("/funding/payment-accounts", token=token))
    seen["GET /funding/deposits"] = _measure(lambda: api.get("/funding/deposits", token=token))
    body = {"deposit_amount": "100", "remittance_id": 1, "trading_account_id": client.accounts[0]}
    headers = idempotency_key()
    seen["POST /funding/deposits"] = _measure(lambda: api.post("/funding/deposits", body, token=token, headers=headers))
    number = draft_deposit(api, client, "100")
    key = upload_receipt(api, client, number)
    submit = {"order_number": number, "receipt_url": key}
    seen["POST /funding/deposits/submit"] = _measure(
        lambda: api.post("/funding/deposits/submit", submit, token=token, headers=idempotency_key())
    )
    deposit(api, admin, client, client.accounts[0], "1000.00")
    withdrawal = withdrawal_body(api, client, client.accounts[0], "100.00")
    seen["POST /funding/withdrawals"] = _measure(
        lambda: api.post("/funding/withdrawals", withdrawal, token=token, headers=idempotency_key())
    )
    transfer = transfer_body(api, client, "50.00")
    seen["POST /funding/transfers (under the threshold)"] = _measure(
        lambda: api.post("/funding/transfers", transfer, token=token, headers=idempotency_key())
    )
    assert {name: dict(counts) for name, counts in seen.items()} == BUDGETS
    assert not any(name.endswith(".Scan") for counts in seen.values() for name in counts)
