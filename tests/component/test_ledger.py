"""The double-entry ledger on moto's DynamoDB (made atomic like DynamoDB's)."""

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from fxcrm import ledger
from fxcrm.ledger.verify import verify
from localcloud.provision import Stack


def _account() -> int:
    account_id = secrets.randbelow(10**12) + 10**12
    ledger.open_trading_account(account_id, "USD")
    return account_id


def _deposit(account_id: int, amount: str) -> None:
    ta = ledger.trading_account(account_id)
    ext = ledger.external("deposit", "bank_transfer", "USD")
    assert ledger.post(
        f"dep-{secrets.token_hex(6)}", "deposit", "D1", "USD", [(ext, -Decimal(amount)), (ta, Decimal(amount))], 1
    )


def test_post_reserve_settle_and_release_keep_the_books_balanced(stack: Stack) -> None:
    account = _account()
    _deposit(account, "500.00")
    assert ledger.available(account) == Decimal("500.00")
    ta, payout, fees = (
        ledger.trading_account(account),
        ledger.external("payout", "bank_transfer", "USD"),
        ledger.fees("USD"),
    )
    legs = [(ta, Decimal("-100")), (payout, Decimal("98")), (fees, Decimal("2"))]
    assert ledger.post("wd-a", "withdrawal", "W1", "USD", legs, 2, pending=True)
    assert ledger.available(account) == Decimal("400.00")  # reserved at once
    assert not ledger.post("wd-a", "withdrawal", "W1", "USD", legs, 3, pending=True)  # a retry writes nothing
    assert ledger.available(account) == Decimal("400.00")
    assert ledger.settle("wd-a", 4) and not ledger.settle("wd-a", 5)

    assert ledger.post("wd-b", "withdrawal", "W2", "USD", legs, 6, pending=True)
    assert ledger.available(account) == Decimal("300.00")
    assert ledger.release("wd-b", 7) and not ledger.release("wd-b", 8)
    assert ledger.available(account) == Decimal("400.00")
    from fxcrm.core.errors import Conflict

    with pytest.raises(Conflict):
        ledger.settle("wd-b", 9)  # a voided reservation cannot be paid out after all
    assert verify()["differences"] == []


def test_unbalanced_legs_are_refused_before_any_write(stack: Stack) -> None:
    account = _account()
    with pytest.raises(ValueError, match="unbalanced"):
        ledger.post("bad-1", "deposit", "D", "USD", [(ledger.trading_account(account), Decimal("5"))], 1)
    assert ledger.available(account) == 0


def test_a_guarded_account_never_goes_below_zero(stack: Stack) -> None:
    account = _account()
    _deposit(account, "10.00")
    ta, payout = ledger.trading_account(account), ledger.external("payout", "bank_transfer", "USD")
    with pytest.raises(ledger.InsufficientFunds) as error:
        ledger.post("wd-big", "withdrawal", "W", "USD", [(ta, Decimal("-10.01")), (payout, Decimal("10.01"))], 1, True)
    assert error.value.account == ta
    with pytest.raises(ledger.InsufficientFunds):  # nor can money go to an account that was never opened
        ledger.post("tr-x", "transfer", "T", "USD", [(ta, Decimal("-1")), ("TA:1", Decimal("1"))], 1)
    assert ledger.available(account) == Decimal("10.00")


def test_200_concurrent_reservations_of_10_against_500_accept_exactly_50(stack: Stack) -> None:
    account = _account()
    _deposit(account, "500.00")
    ta, payout = ledger.trading_account(account), ledger.external("payout", "crypto", "USD")

    def reserve(n: int) -> bool:
        try:
            return ledger.post(
                f"wd-c{account}-{n}",
                "withdrawal",
                "W",
                "USD",
                [(ta, Decimal(-10)), (payout, Decimal(10))],
                int(time.time()),
                True,
            )
        except ledger.InsufficientFunds:
            return False

    with ThreadPoolExecutor(max_workers=16) as pool:
        accepted = sum(pool.map(reserve, range(200)))
    assert accepted == 50
    assert ledger.available(account) == 0
    assert verify()["differences"] == []
