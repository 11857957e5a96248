"""The double-entry ledger on moto's DynamoDB (made atomic like DynamoDB's)."""

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

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


# ---------------------------------------------------------------- no hot items


def _transaction_keys(run: Any) -> list[set[str]]:
    """The partition keys each TransactWriteItems of `run()` writes."""
    from fxcrm.dal import aws

    seen: list[set[str]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        keys = set()
        for operation in params["TransactItems"]:
            ((kind, request),) = operation.items()
            if kind != "ConditionCheck":
                keys.add((request.get("Item") or request["Key"])["pk"]["S"])
        seen.append(keys)

    def hook(client: Any) -> None:
        client.meta.events.register(
            "before-parameter-build.dynamodb.TransactWriteItems", record, unique_id="ledger-keys"
        )
        hooked.append(client)

    hooked: list[Any] = []
    undo = aws.on_client(hook)
    try:
        run()
    finally:
        undo()
        for client in hooked:
            client.meta.events.unregister("before-parameter-build.dynamodb.TransactWriteItems", unique_id="ledger-keys")
    return seen


def _house_items(account: str, sk: str) -> list[dict[str, Any]]:
    from fxcrm.dal.ledger import HOUSE_SHARDS
    from fxcrm.dal.table import Table

    keys = [f"LEDGER#{account}"] + [f"LEDGER#{account}#{n}" for n in range(HOUSE_SHARDS)]
    return [item for pk in keys if (item := Table().get(pk, sk)) is not None]


def test_a_reservation_writes_only_the_clients_account_and_the_house_legs_arrive_at_settle(stack: Stack) -> None:
    account = _account()
    _deposit(account, "500.00")
    ta = ledger.trading_account(account)
    payout, fees = ledger.external("payout", f"m{secrets.token_hex(4)}", "USD"), ledger.fees("USD")
    fees_before = ledger.balance(fees).posted
    txn = f"wd-{secrets.token_hex(6)}"
    legs = [ledger.Leg(ta, Decimal("-100")), ledger.Leg(payout, Decimal("98")), ledger.Leg(fees, Decimal("2"))]

    (written,) = _transaction_keys(lambda: ledger.post(txn, "withdrawal", "W", "USD", legs, 2, pending=True))
    assert written == {f"LTXN#{txn}", f"LEDGER#{ta}"}  # the transaction and the client's account only
    assert ledger.available(account) == Decimal("400.00")
    assert _house_items(payout, "BALANCE") == [] and _house_items(fees, f"POST#{txn}") == []
    assert verify()["differences"] == []  # a pending transaction's postings are its debits

    assert ledger.settle(txn, 3)
    (posting,) = _house_items(fees, f"POST#{txn}")  # in one shard
    assert posting["status"] == "posted" and Decimal(posting["amount"]) == Decimal("2")
    assert ledger.balance(payout).posted == Decimal("98") and ledger.balance(fees).posted == fees_before + 2
    assert verify()["differences"] == []


def test_a_released_reservation_never_touches_the_house_accounts(stack: Stack) -> None:
    account = _account()
    _deposit(account, "50.00")
    ta, payout = ledger.trading_account(account), ledger.external("payout", f"m{secrets.token_hex(4)}", "USD")
    txn = f"wd-{secrets.token_hex(6)}"
    assert ledger.post(
        txn, "withdrawal", "W", "USD", [ledger.Leg(ta, Decimal(-20)), ledger.Leg(payout, Decimal(20))], 1, True
    )
    (written,) = _transaction_keys(lambda: ledger.release(txn, 2))
    assert written == {f"LTXN#{txn}", f"LEDGER#{ta}"}
    assert ledger.available(account) == Decimal("50.00") and _house_items(payout, "BALANCE") == []
    assert verify()["differences"] == []


def test_a_house_account_is_spread_over_shards_and_its_balance_is_their_sum(stack: Stack) -> None:
    from fxcrm.dal import ledger as ledger_dal

    house = ledger.external("deposit", f"m{secrets.token_hex(4)}", "USD")
    accounts = [_account() for _ in range(3)]
    for n in range(24):
        legs = [
            ledger.Leg(house, Decimal("-1.25")),
            ledger.Leg(ledger.trading_account(accounts[n % 3]), Decimal("1.25")),
        ]
        assert ledger.post(f"dep-{secrets.token_hex(6)}", "deposit", "D", "USD", legs, 1)
    shards = ledger_dal.get_balances(house)
    assert len(shards) > 1 and all(s.shard is not None for s in shards)  # never one item
    assert sum(s.posted for s in shards) == Decimal("-30.00") == ledger.balance(house).posted
    assert all(ledger.available(a) == Decimal("10.00") for a in accounts)
    assert verify()["differences"] == []


def test_the_list_of_accounts_is_spread_over_index_keys(stack: Stack) -> None:
    from fxcrm.dal import ledger as ledger_dal
    from fxcrm.dal.table import Table

    account = _account()
    _deposit(account, "5.00")
    item = Table().get(f"LEDGER#{ledger.trading_account(account)}", "BALANCE")
    assert item is not None and item["gsi1pk"].startswith("LEDGERACCOUNTS#")
    assert Table().query("gsi1pk = :pk", {":pk": "LEDGERACCOUNTS"}, index="gsi1") == []  # the one hot key is gone
    listed = {b.account for b in ledger_dal.list_accounts()}
    assert ledger.trading_account(account) in listed
    assert len({i["gsi1pk"] for i in _index_items()}) > 1


def _index_items() -> list[dict[str, Any]]:
    from fxcrm.dal.ledger import INDEX_SHARDS
    from fxcrm.dal.table import Table

    return [
        item
        for n in range(INDEX_SHARDS)
        for item in Table().query("gsi1pk = :pk", {":pk": f"LEDGERACCOUNTS#{n}"}, index="gsi1")
    ]
