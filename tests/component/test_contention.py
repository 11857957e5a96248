"""Concurrent money requests on one account: DynamoDB cancels all but one of
the transactions that meet on an item (`TransactionConflict`), which the DAL
retries with jitter (fxcrm.dal.contention). No client sees a 500, and the
money is exact."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from fxcrm import ledger
from fxcrm.dal import contention
from fxcrm.ledger.verify import verify
from tests.support.api import ApiClient
from tests.support.conflicts import Conflicts
from tests.support.journeys import Client, deposit, idempotency_key, withdrawal_body


def _balance_key(account: int) -> tuple[str, str]:
    return (f"LEDGER#{ledger.trading_account(account)}", "BALANCE")


def _funded_withdrawal(api: ApiClient, admin: str, client: Client) -> tuple[int, dict[str, Any]]:
    """An account holding 250.00 and the body of a 50.00 withdrawal from it."""
    account = client.accounts[0]
    deposit(api, admin, client, account, "250.00")
    return account, withdrawal_body(api, client, account, "50.00")


def test_concurrent_withdrawals_that_conflict_are_retried_and_take_exactly_the_balance(
    api: ApiClient, admin: str, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, body = _funded_withdrawal(api, admin, client)
    monkeypatch.setattr("fxcrm.funding.orders.check_code", lambda *args, **kwargs: None)  # one code for all

    def withdraw(_: int) -> tuple[int, dict[str, str]]:
        reply = api.post("/funding/withdrawals", body, token=client.token, headers=idempotency_key())
        return reply.status, reply.json()

    with Conflicts(_balance_key(account), holders=3) as conflicts, ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(withdraw, range(12)))
    assert conflicts.cancelled >= 3  # DynamoDB's conflicts happened, and were retried
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 5 + [422] * 7, answers
    refused = [answer for status, answer in answers if status == 422]
    assert {(a["code"], a["field"]) for a in refused} == {("insufficient_funds", "withdrawal_amount")}
    assert ledger.available(account) == 0
    listed = api.get("/funding/withdrawals", token=client.token).json()
    assert listed["total"] == 5 and {row["amount"] for row in listed["list"]} == {"50.00"}
    assert verify()["differences"] == []


def test_a_conflict_that_outlasts_the_retries_is_a_503_and_changes_nothing(
    api: ApiClient, admin: str, client: Client
) -> None:
    account, body = _funded_withdrawal(api, admin, client)
    with Conflicts(_balance_key(account), always=True) as conflicts:
        reply = api.post("/funding/withdrawals", body, token=client.token, headers=idempotency_key())
    assert reply.status == 503
    assert reply.json() == {
        "code": "contended",
        "message": "the same accounts are being changed by other requests; try again in a moment",
    }
    assert conflicts.cancelled == contention.MAX_ATTEMPTS  # bounded
    assert ledger.available(account) == Decimal("250.00")
    assert api.get("/funding/withdrawals", token=client.token).json()["total"] == 0
    assert verify()["differences"] == []
