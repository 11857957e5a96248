"""Failures injected into each step of the deposit, withdrawal and transfer
flows. A passing failure is retried by the state machine and the flow ends
fully applied; a lasting one ends fully reversed. Never partial: the trading
server, the ledger and the order always agree."""

import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from fxcrm import ledger
from fxcrm.core.errors import ProviderUnavailable
from fxcrm.ledger.verify import verify
from tests.support.api import ApiClient
from tests.support.journeys import (
    Client,
    approval_waiting,
    decide,
    deposit,
    deposit_waiting,
    idempotency_key,
    order_row,
    platform_balance,
    request_withdrawal,
    transfer_body,
    wait_for,
)


class Injected(Exception):
    """A failure no Retry matches: the flow's Catch takes it to compensation."""


Tasks = dict[str, Callable[[dict[str, Any]], Any]]


@pytest.fixture
def tasks(api: ApiClient) -> Iterator[Tasks]:
    """The ApprovalTasks handler's task table, restored after the test."""
    table: Tasks = sys.modules["fxcrm_function_ApprovalTasksFunction"].TASKS
    saved = dict(table)
    yield table
    table.clear()
    table.update(saved)


def fail_task(tasks: Tasks, name: str, times: int, error: type[Exception] = ProviderUnavailable) -> list[int]:
    """Task `name` fails its first `times` calls before doing anything."""
    real, calls = tasks[name], [0]

    def flaky(event: dict[str, Any]) -> Any:
        calls[0] += 1
        if calls[0] <= times:
            raise error(f"injected failure {calls[0]} of {name}")
        return real(event)

    tasks[name] = flaky
    return calls


def lose_answer(monkeypatch: pytest.MonkeyPatch, operation_id: str, error: type[Exception]) -> None:
    """The trading server applies `operation_id`, then the step dies before
    recording it (once)."""
    from fxcrm.funding import orders

    real, done = orders.move_on_platform, [False]

    def crashing(settings: Any, account: dict[str, Any], amount: Decimal, op_id: str) -> None:
        real(settings, account, amount, op_id)
        if op_id == operation_id and not done[0]:
            done[0] = True
            raise error(f"lost the answer to {op_id}")

    monkeypatch.setattr(orders, "move_on_platform", crashing)


def books_agree(api: ApiClient, client: Client, account: int, expected: str) -> None:
    assert platform_balance(api, client, account) == Decimal(expected)
    assert ledger.available(account) == Decimal(expected)
    assert verify()["differences"] == []


def decided(api: ApiClient, admin: str, order_id: int, decision: str = "approve") -> None:
    reason = "no" if decision == "reject" else None
    assert decide(api, admin, order_id, decision, reason).status == 200


# ---------------------------------------------------------------- deposits


def test_deposit_credit_failing_once_is_retried(api: ApiClient, admin: str, client: Client, tasks: Tasks) -> None:
    calls = fail_task(tasks, "deposit.credit", 1)
    number = deposit_waiting(api, admin, client, "120")
    decided(api, admin, int(number[1:]))
    wait_for(order_row(api, client, "deposits", number), "approved")
    assert calls[0] == 2
    books_agree(api, client, client.accounts[0], "120.00")


@pytest.mark.parametrize(
    ("error", "status", "balance"), [(ProviderUnavailable, "approved", "80.00"), (Injected, "disapproved", "0.00")]
)
def test_deposit_credit_dying_after_the_platform_call(
    api: ApiClient,
    admin: str,
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
    error: type[Exception],
    status: str,
    balance: str,
) -> None:
    """Retried: credited once. Not retried: the credit is taken back."""
    number = deposit_waiting(api, admin, client, "80")
    lose_answer(monkeypatch, f"dep-{number}", error)
    decided(api, admin, int(number[1:]))
    wait_for(order_row(api, client, "deposits", number), status)
    books_agree(api, client, client.accounts[0], balance)


# ---------------------------------------------------------------- withdrawals


def requested_withdrawal(api: ApiClient, admin: str, client: Client) -> str:
    deposit(api, admin, client, client.accounts[0], "500.00")
    return request_withdrawal(api, client, client.accounts[0], "100.00")


@pytest.mark.parametrize("step", ["withdrawal.hold", "withdrawal.pay_out", "withdrawal.post"])
def test_withdrawal_step_failing_once_is_retried(
    api: ApiClient, admin: str, client: Client, tasks: Tasks, step: str
) -> None:
    calls = fail_task(tasks, step, 1)
    number = requested_withdrawal(api, admin, client)
    approval_waiting(api, admin, int(number[1:]))
    decided(api, admin, int(number[1:]))
    wait_for(order_row(api, client, "withdrawals", number), "approved")
    assert calls[0] == 2
    books_agree(api, client, client.accounts[0], "400.00")


def test_withdrawal_payout_failing_for_good_gives_everything_back(
    api: ApiClient, admin: str, client: Client, tasks: Tasks
) -> None:
    fail_task(tasks, "withdrawal.pay_out", 100, Injected)
    number = requested_withdrawal(api, admin, client)
    approval_waiting(api, admin, int(number[1:]))
    decided(api, admin, int(number[1:]))
    row = wait_for(order_row(api, client, "withdrawals", number), "disapproved")
    assert "could not be processed" in row["remark"]
    books_agree(api, client, client.accounts[0], "500.00")


def test_withdrawal_hold_dying_after_the_platform_call_is_refunded(
    api: ApiClient, admin: str, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    deposit(api, admin, client, client.accounts[0], "500.00")
    from fxcrm.funding import orders

    real, died = orders.move_on_platform, [False]

    def die_after_the_first_hold(settings: Any, account: dict[str, Any], amount: Decimal, op_id: str) -> None:
        real(settings, account, amount, op_id)
        if op_id.startswith("wd-") and not died[0]:  # the withdrawal's number is not known yet
            died[0] = True
            raise Injected(f"lost the answer to {op_id}")

    monkeypatch.setattr(orders, "move_on_platform", die_after_the_first_hold)
    number = request_withdrawal(api, client, client.accounts[0], "100.00")
    wait_for(order_row(api, client, "withdrawals", number), "disapproved")
    assert died[0]
    books_agree(api, client, client.accounts[0], "500.00")


def test_compensation_failing_once_still_reverses_fully(
    api: ApiClient, admin: str, client: Client, tasks: Tasks
) -> None:
    calls = fail_task(tasks, "withdrawal.compensate", 1)
    number = requested_withdrawal(api, admin, client)
    approval_waiting(api, admin, int(number[1:]))
    decided(api, admin, int(number[1:]), "reject")
    wait_for(order_row(api, client, "withdrawals", number), "disapproved")
    assert calls[0] == 2
    books_agree(api, client, client.accounts[0], "500.00")


# ---------------------------------------------------------------- transfers


def requested_transfer(api: ApiClient, admin: str, client: Client) -> int:
    deposit(api, admin, client, client.accounts[0], "2000.00")
    body = transfer_body(api, client, "1500.00")
    reply = api.post("/funding/transfers", body, token=client.token, headers=idempotency_key())
    assert reply.status == 201 and reply.json()["audit_status"] == "pending", reply.body
    audit_id = int(reply.json()["audit_id"])
    approval_waiting(api, admin, audit_id)
    return audit_id


@pytest.mark.parametrize("step", ["transfer.hold", "transfer.post"])
def test_transfer_step_failing_once_is_retried(
    api: ApiClient, admin: str, client: Client, tasks: Tasks, step: str
) -> None:
    calls = fail_task(tasks, step, 1)
    audit_id = requested_transfer(api, admin, client)
    decided(api, admin, audit_id)
    wait_for(order_row(api, client, "transfers", f"T{audit_id}"), "approved")
    assert calls[0] == 2
    books_agree(api, client, client.accounts[0], "500.00")
    books_agree(api, client, client.accounts[1], "1500.00")


def test_transfer_credit_dying_for_good_is_undone_on_both_accounts(
    api: ApiClient, admin: str, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit_id = requested_transfer(api, admin, client)
    lose_answer(monkeypatch, f"tr-T{audit_id}-in", Injected)
    decided(api, admin, audit_id)
    wait_for(order_row(api, client, "transfers", f"T{audit_id}"), "disapproved")
    books_agree(api, client, client.accounts[0], "2000.00")
    books_agree(api, client, client.accounts[1], "0.00")
