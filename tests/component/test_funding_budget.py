"""AWS calls per funding request (warm), held to the budgets in docs/performance.md."""

import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.component.test_funding import BANK, Client, _code, _deposit, _quote, _upload, admin, client
from tests.support.api import ApiClient
from tests.support.aws_calls import AwsCalls

__all__ = ["admin", "client"]

BUDGETS: dict[str, dict[str, int]] = {
    "GET /funding/currencies": {"dynamodb.GetItem": 2},
    "GET /funding/deposit-channels": {"dynamodb.GetItem": 1, "dynamodb.Query": 1},
    "GET /funding/payment-accounts": {"dynamodb.GetItem": 1, "dynamodb.Query": 1},
    "GET /funding/deposits": {"dynamodb.GetItem": 1, "dynamodb.Query": 1},
    "POST /funding/deposits": {"dynamodb.GetItem": 3, "dynamodb.PutItem": 2, "dynamodb.UpdateItem": 1},
    "POST /funding/deposits/submit": {
        "dynamodb.GetItem": 2,
        "dynamodb.PutItem": 1,
        "dynamodb.UpdateItem": 2,
        "dynamodb.TransactWriteItems": 1,
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
        "dynamodb.GetItem": 10,
        "dynamodb.PutItem": 1,
        "dynamodb.DeleteItem": 1,
        "dynamodb.UpdateItem": 6,  # one: the email code's attempt
        "dynamodb.TransactWriteItems": 4,
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
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    seen["POST /funding/deposits"] = _measure(lambda: api.post("/funding/deposits", body, token=token, headers=headers))
    number = api.post("/funding/deposits", body, token=token, headers={"Idempotency-Key": str(uuid.uuid4())}).json()[
        "order_number"
    ]
    key = _upload(api, client, number)
    submit = {"order_number": number, "receipt_url": key}
    seen["POST /funding/deposits/submit"] = _measure(
        lambda: api.post(
            "/funding/deposits/submit", submit, token=token, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
    )
    _deposit(api, admin, client, client.accounts[0], "1000.00")
    quote = _quote(api, client, "100.00")
    withdrawal = {
        "bank_transfer_info": BANK | {"account_holder_name": "Chen Li"},
        "currency": "USD",
        "email_code": _code(api, client, "withdrawal"),
        "exchange_rate": quote["exchange_rate"],
        "fee": quote["fee"],
        "method": "bank_transfer",
        "remittance_amount": quote["remittance_amount"],
        "remittance_id": 11,
        "trading_account_id": client.accounts[0],
        "withdrawal_amount": "100.00",
    }
    seen["POST /funding/withdrawals"] = _measure(
        lambda: api.post(
            "/funding/withdrawals", withdrawal, token=token, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
    )
    transfer = {
        "amount": "50.00",
        "email_code": _code(api, client, "transfer"),
        "remark": "",
        "source_trading_account_id": client.accounts[0],
        "target_trading_account_id": client.accounts[1],
    }
    seen["POST /funding/transfers (under the threshold)"] = _measure(
        lambda: api.post("/funding/transfers", transfer, token=token, headers={"Idempotency-Key": str(uuid.uuid4())})
    )
    assert {name: dict(counts) for name, counts in seen.items()} == BUDGETS
    assert not any(name.endswith(".Scan") for counts in seen.values() for name in counts)
