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
from tests.component.test_funding import (
    Client,
    _approval_waiting,
    _code,
    _deposit,
    _key,
    _order,
    _platform_balance,
    _upload,
    _wait,
    _withdrawal_body,
    admin,
    client,
)
from tests.support.api import ApiClient

__all__ = ["admin", "client"]  # fixtures used here


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
    assert _platform_balance(api, client, account) == Decimal(expected)
    assert ledger.available(account) == Decimal(expected)
    assert verify()["differences"] == []


def decide(api: ApiClient, admin: str, order_id: int, decision: str = "approve") -> None:
    body = {"decision": decision} | ({"reason": "no"} if decision == "reject" else {})
    assert api.post(f"/admin/approvals/{order_id}/decision", body, token=admin).status == 200


# ---------------------------------------------------------------- deposits


def submitted_deposit(api: ApiClient, admin: str, client: Client, amount: str) -> str:
    number = api.post(
        "/funding/deposits",
        {"deposit_amount": amount, "remittance_id": 1, "trading_account_id": client.accounts[0]},
        token=client.token,
        headers=_key(),
    ).json()["order_number"]
    body = {"order_number": number, "receipt_url": _upload(api, client, number)}
    assert api.post("/funding/deposits/submit", body, token=client.token, headers=_key()).status == 200
    _approval_waiting(api, admin, int(number[1:]))
    return str(number)


def test_deposit_credit_failing_once_is_retried(api: ApiClient, admin: str, client: Client, tasks: Tasks) -> None:
    calls = fail_task(tasks, "deposit.credit", 1)
    number = submitted_deposit(api, admin, client, "120")
    decide(api, admin, int(number[1:]))
    _wait(_order(api, client, "deposits", number), "approved")
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
    number = submitted_deposit(api, admin, client, "80")
    lose_answer(monkeypatch, f"dep-{number}", error)
    decide(api, admin, int(number[1:]))
    _wait(_order(api, client, "deposits", number), status)
    books_agree(api, client, client.accounts[0], balance)


# ---------------------------------------------------------------- withdrawals


def requested_withdrawal(api: ApiClient, admin: str, client: Client) -> str:
    _deposit(api, admin, client, client.accounts[0], "500.00")
    reply = api.post(
        "/funding/withdrawals",
        _withdrawal_body(api, client, client.accounts[0], "100.00"),
        token=client.token,
        headers=_key(),
    )
    assert reply.status == 201, reply.body
    return str(reply.json()["order_number"])


@pytest.mark.parametrize("step", ["withdrawal.hold", "withdrawal.pay_out", "withdrawal.post"])
def test_withdrawal_step_failing_once_is_retried(
    api: ApiClient, admin: str, client: Client, tasks: Tasks, step: str
) -> None:
    calls = fail_task(tasks, step, 1)
    number = requested_withdrawal(api, admin, client)
    _approval_waiting(api, admin, int(number[1:]))
    decide(api, admin, int(number[1:]))
    _wait(_order(api, client, "withdrawals", number), "approved")
    assert calls[0] == 2
    books_agree(api, client, client.accounts[0], "400.00")


def test_withdrawal_payout_failing_for_good_gives_everything_back(
    api: ApiClient, admin: str, client: Client, tasks: Tasks
) -> None:
    fail_task(tasks, "withdrawal.pay_out", 100, Injected)
    number = requested_withdrawal(api, admin, client)
    _approval_waiting(api, admin, int(number[1:]))
    decide(api, admin, int(number[1:]))
    row = _wait(_order(api, client, "withdrawals", number), "disapproved")
    assert "could not be processed" in row["remark"]
    books_agree(api, client, client.accounts[0], "500.00")


def test_withdrawal_hold_dying_after_the_platform_call_is_refunded(
    api: ApiClient, admin: str, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deposit(api, admin, client, client.accounts[0], "500.00")
    from fxcrm.funding import orders

    real, died = orders.move_on_platform, [False]

    def die_after_the_first_hold(settings: Any, account: dict[str, Any], amount: Decimal, op_id: str) -> None:
        real(settings, account, amount, op_id)
        if op_id.startswith("wd-") and not died[0]:  # the withdrawal's number is not known yet
            died[0] = True
            raise Injected(f"lost the answer to {op_id}")

    monkeypatch.setattr(orders, "move_on_platform", die_after_the_first_hold)
    reply = api.post(
        "/funding/withdrawals",
        _withdrawal_body(api, client, client.accounts[0], "100.00"),
        token=client.token,
        headers=_key(),
    )
    number = reply.json()["order_number"]
    _wait(_order(api, client, "withdrawals", number), "disapproved")
    assert died[0]
    books_agree(api, client, client.accounts[0], "500.00")


def test_compensation_failing_once_still_reverses_fully(
    api: ApiClient, admin: str, client: Client, tasks: Tasks
) -> None:
    calls = fail_task(tasks, "withdrawal.compensate", 1)
    number = requested_withdrawal(api, admin, client)
    _approval_waiting(api, admin, int(number[1:]))
    decide(api, admin, int(number[1:]), "reject")
    _wait(_order(api, client, "withdrawals", number), "disapproved")
    assert calls[0] == 2
    books_agree(api, client, client.accounts[0], "500.00")


# ---------------------------------------------------------------- transfers


def requested_transfer(api: ApiClient, admin: str, client: Client) -> int:
    _deposit(api, admin, client, client.accounts[0], "2000.00")
    body = {
        "amount": "1500.00",
        "email_code": _code(api, client, "transfer"),
        "remark": "",
        "source_trading_account_id": client.accounts[0],
        "target_trading_account_id": client.accounts[1],
    }
    reply = api.post("/funding/transfers", body, token=client.token, headers=_key())
    assert reply.status == 201 and reply.json()["audit_status"] == "pending", reply.body
    audit_id = int(reply.json()["audit_id"])
    _approval_waiting(api, admin, audit_id)
    return audit_id


@pytest.mark.parametrize("step", ["transfer.hold", "transfer.post"])
def test_transfer_step_failing_once_is_retried(
    api: ApiClient, admin: str, client: Client, tasks: Tasks, step: str
) -> None:
    calls = fail_task(tasks, step, 1)
    audit_id = requested_transfer(api, admin, client)
    decide(api, admin, audit_id)
    _wait(_order(api, client, "transfers", f"T{audit_id}"), "approved")
    assert calls[0] == 2
    books_agree(api, client, client.accounts[0], "500.00")
    books_agree(api, client, client.accounts[1], "1500.00")


def test_transfer_credit_dying_for_good_is_undone_on_both_accounts(
    api: ApiClient, admin: str, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit_id = requested_transfer(api, admin, client)
    lose_answer(monkeypatch, f"tr-T{audit_id}-in", Injected)
    decide(api, admin, audit_id)
    _wait(_order(api, client, "transfers", f"T{audit_id}"), "disapproved")
    books_agree(api, client, client.accounts[0], "2000.00")
    books_agree(api, client, client.accounts[1], "0.00")
