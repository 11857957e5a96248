"""The domain's money boundaries are typed, so mypy strict (which `make lint`
runs) refuses a caller that passes the wrong shape: a withdrawal is the
request model, not a dict; a ledger leg is a `Leg`; an item needs one or two
approvals; and a misspelt request field is an error, not a KeyError at run time."""

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from fxcrm.core.caller import Principal
from fxcrm.dal.funding import order_item
from fxcrm.dal.models.orders import (
    NOT_STORED,
    DepositOrder,
    OrderBase,
    TransferOrder,
    WithdrawalOrder,
    order_from_item,
)
from fxcrm.funding import deposits, transfers, withdrawals
from fxcrm.funding.schemas import (
    DepositDraftRequest,
    DepositSubmitRequest,
    TransferRequest,
    WithdrawalRequest,
)

ROOT = Path(__file__).resolve().parents[2]

MISUSES = """
from decimal import Decimal

from fxcrm import ledger
from fxcrm.core.caller import Principal
from fxcrm.core.settings import get_settings
from fxcrm.dal import funding as funding_dal
from fxcrm.funding import orders, withdrawals
from fxcrm.funding.orders import WithdrawalOrder
from fxcrm.funding.schemas import WithdrawalRequest
from fxcrm.approvals import workflow
from fxcrm.approvals.workflow import ApprovalItem
from fxcrm.dal import approvals as approvals_dal
from fxcrm.dal import ledger as ledger_dal


def misuse(
    principal: Principal,
    body: WithdrawalRequest,
    order: WithdrawalOrder,
    approval: ApprovalItem,
    txn: ledger.Transaction,
    balance: ledger.Balance,
) -> None:
    withdrawals.request(get_settings(), principal, {"withdrawal_amount": "10.00"}, 0)  # WRONG: a dict
    ledger.post("t", "deposit", "D", "USD", [("TA:1", Decimal(5)), ("FEES:USD", Decimal(-5))], 0)  # WRONG: tuples
    orders.submit_or_release(get_settings(), order, principal, {}, 0, required_approvals=3)  # WRONG
    print(body.withdrawal_amonut)  # WRONG: misspelt
    orders.submit_or_release(get_settings(), {"id": 1}, principal, {}, 0)  # WRONG: an order is a model
    print(order.remitance_amount)  # WRONG: misspelt
    funding_dal.update_order("W1", {"stauts": "approved"}, ("auditing",))  # WRONG: no such field
    funding_dal.update_order("W1", {"status": "paid"}, ("auditing",))  # WRONG: no such status
    funding_dal.update_order("W1", {"held": "yes"}, ("auditing",))  # WRONG: a flag is a bool
    print(order.fee + "1")  # WRONG: the fee is a Decimal
    workflow.close(1, "completed", 0, {"logn": 5})  # WRONG: no such field
    approvals_dal.change_status(approval, "approved", ("waiting",), 0, {"decided_by": "ada"})  # WRONG: an id
    print(approval.task_tokn)  # WRONG: misspelt
    print(orders.auditor_name({"decided_by": 1}))  # WRONG: an approval is a model
    ledger.post("t", "deposti", "D", "USD", [], 0)  # WRONG: no such kind of transaction
    print(txn.legs[0]["amount"])  # WRONG: a leg is a model
    print(balance.availabel)  # WRONG: misspelt


def use(principal: Principal, body: WithdrawalRequest, order: WithdrawalOrder, approval: ApprovalItem) -> None:
    withdrawals.request(get_settings(), principal, body, 0)
    ledger.post("t", "deposit", "D", "USD", [ledger.Leg("TA:1", Decimal(5)), ledger.Leg("FEES:USD", Decimal(-5))], 0)
    orders.submit_or_release(get_settings(), order, principal, {}, 0, required_approvals=2)
    print(body.withdrawal_amount, order.remittance_amount + order.fee)
    funding_dal.update_order("W1", {"status": "approved", "held": True}, ("auditing",))
    workflow.close(1, "completed", 0, {"login": 5})
    approvals_dal.change_status(approval, "approved", ("waiting",), 0, {"decided_by": 1, "reason": ""})
    print(approval.task_token, orders.auditor_name(approval), approval.required_approvals + 1)
    txn = ledger_dal.get_transaction("t")
    balance = ledger_dal.get_balance("TA:1")
    print(txn and txn.legs[0].amount + 1, balance and balance.available - balance.pending_out)
"""


def test_mypy_refuses_each_wrongly_shaped_call_and_accepts_the_typed_ones(tmp_path: Path) -> None:
    snippet = tmp_path / "callers.py"
    snippet.write_text(MISUSES)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(snippet)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    wrong = {number for number, line in enumerate(MISUSES.splitlines(), 1) if "# WRONG" in line}
    flagged = {int(n) for n in re.findall(rf"{re.escape(snippet.name)}:(\d+): error", result.stdout)}
    assert len(wrong) == 17
    assert flagged == wrong, result.stdout


# ---------------------------------------------------------------- every request field has a home

REQUESTS: list[tuple[type[OrderBase], list[type[BaseModel]]]] = [
    (DepositOrder, [DepositDraftRequest, DepositSubmitRequest]),
    (WithdrawalOrder, [WithdrawalRequest]),
    (TransferOrder, [TransferRequest]),
]


@pytest.mark.parametrize(("model", "schemas"), REQUESTS, ids=lambda v: getattr(v, "__name__", ""))
def test_every_request_field_lands_on_a_field_of_the_order_model(
    model: type[OrderBase], schemas: list[type[BaseModel]]
) -> None:
    """A field added to a request schema fails here until the order model
    says where it is stored (or, for a one-time secret, that it is not)."""
    request_fields = {name for schema in schemas for name in schema.model_fields}
    assert set(model.FROM_REQUEST) == request_fields
    homes = {home for home in model.FROM_REQUEST.values() if home != NOT_STORED}
    assert homes <= set(model.model_fields), homes - set(model.model_fields)


def test_only_one_time_secrets_are_left_out_of_storage() -> None:
    for model, _ in REQUESTS:
        assert {f for f, home in model.FROM_REQUEST.items() if home == NOT_STORED} <= {"email_code"}


def test_a_stored_order_refuses_an_attribute_its_model_does_not_name() -> None:
    order = _withdrawal_order(_withdrawal_request())
    with pytest.raises(ValueError, match="details_typo"):
        order_from_item(order_item(order) | {"details_typo": "x"})


CLIENT = Principal(user_id=7, user_type="client", role="client", email="ada@example.com")
ACCOUNT: dict[str, Any] = {"id": 11, "login": 500011, "server": "MT5-Live", "currency": "USD"}
TARGET: dict[str, Any] = {"id": 12, "login": 500012, "server": "MT5-Live", "currency": "USD"}
CHANNEL: dict[str, Any] = {"id": 3, "name": "Tether", "method": "cryptocurrency", "icon_url": "i.png", "kind": "online"}
NOW = 1_790_000_000


def _withdrawal_request(**changes: Any) -> WithdrawalRequest:
    fields: dict[str, Any] = {
        "currency": "USDT",
        "email_code": "123456",
        "exchange_rate": "1",
        "fee": "1.00",
        "method": "cryptocurrency",
        "payment_account_id": 41,
        "remark": "for rent",
        "remittance_amount": "99.00",
        "remittance_id": 3,
        "trading_account_id": 11,
        "withdrawal_amount": "100.00",
    }
    return WithdrawalRequest(**(fields | changes))


def _withdrawal_order(body: WithdrawalRequest) -> WithdrawalOrder:
    quoted = withdrawals.Quote(Decimal("1.00"), Decimal(1), Decimal("99.00"))
    details = {"network": "TRC20", "wallet_address": "T" * 34, "currency": "USDT"}
    return withdrawals.build_order(CLIENT, body, ACCOUNT, CHANNEL, quoted, details, NOW, "https://api.example/")


def _stored(order: OrderBase) -> dict[str, Any]:
    """What the table holds for the order, read back through the one loader."""
    item = order_item(order)
    assert order_from_item(item) == order
    return item


def test_a_withdrawal_request_is_carried_to_storage() -> None:
    stored = _stored(_withdrawal_order(_withdrawal_request()))
    assert stored["kind"] == "withdrawal" and stored["order_number"] == f"W{stored['id']}"
    assert (stored["amount"], stored["fee"], stored["exchange_rate"]) == (Decimal("100.00"), Decimal("1.00"), 1)
    assert (stored["remittance_amount"], stored["remittance_currency"]) == (Decimal("99.00"), "USDT")
    assert (stored["method"], stored["channel_id"], stored["account_id"]) == ("cryptocurrency", 3, 11)
    assert stored["payment_account_id"] == 41  # the saved account the details came from (once dropped)
    assert stored["details"]["wallet_address"] == "T" * 34 and stored["client_remark"] == "for rent"
    assert stored["payout_kind"] == "online" and stored["api_base"] == "https://api.example/"
    assert "email_code" not in stored and "123456" not in str(stored)


def test_a_deposit_request_is_carried_to_storage() -> None:
    body = DepositDraftRequest(deposit_amount="250.50", remark="salary", remittance_id=3, trading_account_id=11)
    stored = _stored(deposits.build_order(CLIENT, body, ACCOUNT, CHANNEL, NOW))
    assert stored["kind"] == "deposit" and stored["status"] == "pending"
    assert (stored["amount"], stored["client_remark"], stored["channel_id"]) == (Decimal("250.50"), "salary", 3)
    assert stored["account_id"] == 11 and stored["account"]["account"] == "500011"
    assert stored["gsi1pk"] == "USERORDERS#7#deposit"


def test_a_transfer_request_is_carried_to_storage() -> None:
    body = TransferRequest(
        amount="30.00", email_code="654321", remark="move", source_trading_account_id=11, target_trading_account_id=12
    )
    stored = _stored(transfers.build_order(CLIENT, body, ACCOUNT, TARGET, NOW))
    assert (stored["amount"], stored["client_remark"]) == (Decimal("30.00"), "move")
    assert (stored["account_id"], stored["target_account_id"]) == (11, 12)
    assert stored["target_account"] == {
        "account": "500012",
        "id": 12,
        "server_name": "fxcrm-MT5-Live",
        "server_type": "MT5-Live",
    }
    assert "654321" not in str(stored)


def test_an_approval_item_keeps_its_private_attributes_typed_and_its_stricter_default() -> None:
    from fxcrm.dal.models.approvals import approval_from_item

    class Binary:  # what boto3 loads a binary attribute as
        def __bytes__(self) -> bytes:
            return b"ciphertext"

    item = {
        "pk": "APPROVAL#5",
        "sk": "APPROVAL",
        "gsi1pk": "APPROVALS#waiting",
        "gsi1sk": "x",
        "id": Decimal(5),
        "kind": "account_opening",
        "status": "waiting",
        "user_id": Decimal(7),
        "email": "ada@example.com",
        "summary": {"leverage": Decimal(100)},
        "created_at": Decimal(NOW),
        "updated_at": Decimal(NOW),
        "task_token": "tok",
        "sealed": Binary(),
    }
    approval = approval_from_item(item)
    assert (approval.id, approval.sealed, approval.task_token) == (5, b"ciphertext", "tok")
    assert approval.required_approvals == 2  # written before the number was stored: two approvers
    with pytest.raises(ValueError, match="login_typo"):
        approval_from_item(item | {"login_typo": 1})
