"""The typed ledger records: a transaction with its legs, one posting of a
leg on an account, an account's balance. fxcrm.ledger builds them;
fxcrm.dal.ledger stores and loads them."""

from decimal import Decimal
from typing import Any, Literal

from fxcrm.dal.models.base import Record, without_keys

TxnKind = Literal["deposit", "withdrawal", "transfer", "trading", "rebate"]
TxnStatus = Literal["pending", "posted", "voided"]
Outcome = Literal["posted", "voided"]


class TxnLeg(Record):
    """One side of a transaction as stored: the signed amount (+ raises the
    balance) on one account; guarded accounts never go below zero available."""

    account: str
    amount: Decimal
    guarded: bool
    shard: int | None = None  # a house account's balance item this leg goes to


class Transaction(Record):
    id: str
    kind: TxnKind
    ref: str  # what it pays for (an order number, a ticket, a rebate record)
    currency: str
    status: TxnStatus
    legs: tuple[TxnLeg, ...]
    created_at: int
    updated_at: int


class Posting(Record):
    txn_id: str
    amount: Decimal
    status: TxnStatus
    at: int


class Balance(Record):
    account: str
    currency: str
    guarded: bool
    shard: int | None = None  # one shard of a house account
    posted: Decimal = Decimal(0)
    pending_out: Decimal = Decimal(0)  # reserved by pending debits
    available: Decimal = Decimal(0)  # posted - pending_out


def transaction_from_item(item: dict[str, Any]) -> Transaction:
    return Transaction.model_validate(without_keys(item))


def posting_from_item(item: dict[str, Any]) -> Posting:
    return Posting.model_validate(without_keys(item))


def balance_from_item(item: dict[str, Any]) -> Balance:
    return Balance.model_validate(without_keys(item))
