"""Double-entry bookkeeping of every money movement fxcrm makes.

Accounts: `TA:<trading account id>` (the client's money in a live trading
account: guarded, it never goes below zero available), `EXT:<flow>:<method>:<currency>`
(money arriving from or leaving for the outside world), `FEES:<currency>`.
Each transaction's legs sum to zero. A withdrawal (or a transfer waiting for
approval) is posted `pending`: its debit is reserved at once and later either
settled (`posted`) or released (`voided`); its credits are written only then.
House accounts (`EXT:`, `FEES:`, `REBATES:` ...) are sharded: `balance` sums them."""

from decimal import Decimal
from typing import Any, NamedTuple

from fxcrm.core.errors import Conflict
from fxcrm.core.money import quantise
from fxcrm.dal import ledger as dal
from fxcrm.dal.ledger import AlreadyApplied, InsufficientFunds
from fxcrm.dal.models.ledger import Balance, Outcome, Transaction, TxnKind, TxnLeg

__all__ = [
    "AlreadyApplied",
    "Balance",
    "InsufficientFunds",
    "Leg",
    "Transaction",
    "balance",
    "post",
    "release",
    "settle",
]


class Leg(NamedTuple):
    """One side of a transaction: the amount (negative: a debit) on one account."""

    account: str
    amount: Decimal


def trading_account(account_id: int) -> str:
    return f"TA:{account_id}"


def external(flow: str, method: str, currency: str) -> str:
    return f"EXT:{flow}:{method}:{currency}"


def fees(currency: str) -> str:
    return f"FEES:{currency}"


def open_trading_account(account_id: int, currency: str) -> None:
    dal.open_account(trading_account(account_id), currency, guarded=True)


def _guarded(account: str) -> bool:
    return account.startswith("TA:")


def _house(account: str) -> bool:
    """An account of the broker's, not of one client or IB: every transaction of
    a kind touches it, so it is sharded (fxcrm.dal.ledger)."""
    return not account.startswith(("TA:", "IB:"))


def balance(account: str) -> Balance:
    """An account's balance: a house account's is the sum of its shards."""
    parts = dal.get_balances(account)
    first = parts[0] if parts else None
    return Balance(
        account=account,
        currency=first.currency if first else "",
        guarded=_guarded(account),
        posted=sum((p.posted for p in parts), Decimal(0)),
        pending_out=sum((p.pending_out for p in parts), Decimal(0)),
        available=sum((p.available for p in parts), Decimal(0)),
    )


def post(
    txn_id: str,
    kind: TxnKind,
    ref: str,
    currency: str,
    legs: list[Leg],
    now: int,
    pending: bool = False,
    with_items: list[dict[str, Any]] | None = None,
    fact: bool = False,
) -> bool:
    """Write the transaction once (with `with_items`, all or nothing). Returns
    False if this id was written before (a retried step); raises
    InsufficientFunds if a guarded debit would take an account below zero.
    A `fact` (a trading result the server already booked) is recorded as it
    is, even where it takes an account below zero."""
    legs = [Leg(account, quantise(amount, currency)) for account, amount in legs if amount != 0]
    if sum(leg.amount for leg in legs) != 0 or len({leg.account for leg in legs}) != len(legs):
        raise ValueError(f"unbalanced or repeated legs in {txn_id}: {legs}")
    txn = Transaction(
        id=txn_id,
        kind=kind,
        ref=ref,
        currency=currency,
        status="pending" if pending else "posted",
        legs=tuple(
            TxnLeg(
                account=leg.account,
                amount=leg.amount,
                guarded=_guarded(leg.account),
                shard=dal.house_shard(txn_id) if _house(leg.account) else None,
            )
            for leg in legs
        ),
        created_at=now,
        updated_at=now,
    )
    try:
        dal.post(txn, with_items, floor=not fact)
    except AlreadyApplied:
        return False
    return True


def _finish(txn_id: str, outcome: Outcome, now: int) -> bool:
    try:
        dal.finish(txn_id, outcome, now)
    except AlreadyApplied:
        txn = dal.get_transaction(txn_id)
        if txn is not None and txn.status == outcome:
            return False  # done by an earlier attempt
        raise Conflict(f"ledger transaction {txn_id} is {txn.status if txn else 'missing'}") from None
    return True


def settle(txn_id: str, now: int) -> bool:
    """Post a pending transaction (idempotent: False if it was already posted)."""
    return _finish(txn_id, "posted", now)


def release(txn_id: str, now: int) -> bool:
    """Void a pending transaction and free its reservation (idempotent)."""
    return _finish(txn_id, "voided", now)


def available(account_id: int) -> Decimal:
    balance = dal.get_balance(trading_account(account_id))
    return balance.available if balance else Decimal(0)


def is_posted(txn_id: str) -> bool:
    txn = dal.get_transaction(txn_id)
    return txn is not None and txn.status == "posted"
