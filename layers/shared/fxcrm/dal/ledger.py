"""The double-entry ledger.

LEDGER#<account> / BALANCE        posted, pending_out (reserved), available (= posted - pending_out),
                                  currency, guarded (no negative available);
                                  gsi1: LEDGERACCOUNTS#<n> / <account> (the list of accounts, for
                                  verify; n = a hash of the key over INDEX_SHARDS)
LEDGER#<account>#<shard> / BALANCE  the same, for one shard of a house account (below)
LEDGER#<account>[#<shard>] / POST#<txn id>  one posting: amount (signed; + raises the balance), status
LTXN#<txn id> / TXN               the transaction: legs (each with its shard), status (pending |
                                  posted | voided), kind, ref

Every change of a transaction is one TransactWriteItems over the transaction,
its postings and the balances, so they never disagree. A transaction id is
written once: posting the same id again is reported, not repeated.

No hot items: a house account that every transaction of a kind touches
(`EXT:...`, `FEES:...`, `REBATES:...`) is HOUSE_SHARDS balance items, a leg
going to the shard its transaction id hashes to (and recorded on the leg);
its balance is the sum of its shards. A pending transaction writes only its
debits (the client's reservation) and the transaction: its credits, house
accounts included, are written when it settles.
"""

import zlib
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal.errors import ConditionFailed
from fxcrm.dal.models.ledger import (
    Balance,
    Outcome,
    Posting,
    Transaction,
    TxnLeg,
    TxnStatus,
    balance_from_item,
    posting_from_item,
    transaction_from_item,
)
from fxcrm.dal.table import Item, Table, status_change, to_ddb, values

# Balance items per house account; it may grow (readers ask every shard up to
# it), never shrink while a shard holds money.
HOUSE_SHARDS = 8
# gsi1 keys the list of balance items is spread over, so no write of a balance
# lands on one index key.
INDEX_SHARDS = 16


class AlreadyApplied(ConditionFailed):
    """The transaction id exists already (or has already moved on)."""


class InsufficientFunds(ConditionFailed):
    def __init__(self, account: str) -> None:
        super().__init__(account)
        self.account = account


def house_shard(txn_id: str) -> int:
    """The shard of every house account a transaction touches: the same on every retry."""
    return zlib.crc32(txn_id.encode()) % HOUSE_SHARDS


def _balance_name(account: str, shard: int | None) -> str:
    return account if shard is None else f"{account}#{shard}"


def _balance_key(account: str, shard: int | None) -> Item:
    return {"pk": f"LEDGER#{_balance_name(account, shard)}", "sk": "BALANCE"}


def _index_key(account: str, shard: int | None) -> str:
    name = _balance_name(account, shard)
    return f"LEDGERACCOUNTS#{zlib.crc32(name.encode()) % INDEX_SHARDS}"


def _balance_update(
    table: Table, leg: TxnLeg, currency: str, add: dict[str, Decimal], floor: Decimal | None
) -> dict[str, Any]:
    """Change a balance; with `floor`, only if `available >= floor` (a guarded debit)."""
    names = {f"#{k}": k for k in add}
    update = "ADD " + ", ".join(f"#{k} :{k}" for k in add)
    update += (
        " SET currency = if_not_exists(currency, :currency), account = if_not_exists(account, :account),"
        " guarded = if_not_exists(guarded, :guarded), gsi1pk = :gsi1pk, gsi1sk = :name"
    )
    expression_values: Item = {f":{k}": v for k, v in add.items()} | {
        ":currency": currency,
        ":account": leg.account,
        ":guarded": leg.guarded,
        ":gsi1pk": _index_key(leg.account, leg.shard),
        ":name": _balance_name(leg.account, leg.shard),
    }
    if leg.shard is not None:
        update += ", #shard = :shard"  # a reserved word
        names["#shard"] = "shard"
        expression_values[":shard"] = leg.shard
    conditions = []
    if leg.guarded:
        conditions.append("attribute_exists(pk)")  # guarded accounts are opened explicitly
    if floor is not None:
        conditions.append("available >= :floor")
        expression_values[":floor"] = floor
    request: dict[str, Any] = {
        "TableName": table.name,
        "Key": values(_balance_key(leg.account, leg.shard)),
        "UpdateExpression": update,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values(expression_values),
    }
    if conditions:
        request["ConditionExpression"] = " AND ".join(conditions)
    return {"Update": request}


def _put_posting(table: Table, txn_id: str, leg: TxnLeg, status: TxnStatus, at: int) -> dict[str, Any]:
    posting = Posting(txn_id=txn_id, amount=leg.amount, status=status, at=at)
    key = {"pk": _balance_key(leg.account, leg.shard)["pk"], "sk": f"POST#{txn_id}"}
    return {"Put": {"TableName": table.name, "Item": to_ddb(key | posting.to_item())}}


def open_account(account: str, currency: str, guarded: bool, table: Table | None = None) -> None:
    """Create the balance item (zero) unless it exists: a guarded account exists
    before its first posting, so no first-spend race."""
    table = table or Table()
    try:
        table.put(
            {
                **_balance_key(account, None),
                "account": account,
                "currency": currency,
                "guarded": guarded,
                "posted": Decimal(0),
                "pending_out": Decimal(0),
                "available": Decimal(0),
                "gsi1pk": _index_key(account, None),
                "gsi1sk": account,
            },
            condition="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def _run(table: Table, items: list[dict[str, Any]]) -> None:
    """Run one transaction; name what stopped it: the transaction exists or
    has moved on (AlreadyApplied), or a guarded balance is short (or missing)."""
    try:
        table.client.transact_write_items(TransactItems=items)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise AlreadyApplied() from error
        for index, code in enumerate(reasons):
            request = items[index].get("Update", {})
            if code == "ConditionalCheckFailed" and request.get("Key", {}).get("sk") == {"S": "BALANCE"}:
                raw = request["Key"]["pk"]["S"]
                raise InsufficientFunds(raw.removeprefix("LEDGER#")) from error
        raise


def post(
    txn: Transaction,
    with_items: list[dict[str, Any]] | None = None,
    table: Table | None = None,
    floor: bool = True,
) -> None:
    """Write a transaction with its legs, and `with_items` (e.g. the order it
    pays for) in the same TransactWriteItems. Pending: debits are reserved
    (available falls, pending_out rises) and credits wait, unwritten, for the
    settlement; posted: every balance moves now."""
    table = table or Table()
    if txn.status == "voided":
        raise ValueError(f"{txn.id}: a transaction is written pending or posted")
    pending = txn.status == "pending"
    record = {**txn.to_item(), "pk": f"LTXN#{txn.id}", "sk": "TXN"}
    items: list[dict[str, Any]] = [
        {"Put": {"TableName": table.name, "Item": to_ddb(record), "ConditionExpression": "attribute_not_exists(pk)"}}
    ]
    for leg in txn.legs:
        minimum = -leg.amount if (leg.amount < 0 and leg.guarded and floor) else None
        if pending and leg.amount > 0:
            if leg.guarded:  # a client's account: it moves nothing yet, but it must exist
                items.append(_balance_update(table, leg, txn.currency, {"posted": Decimal(0)}, None))
            continue  # the credit is written at settle: a reservation touches no house account
        items.append(_put_posting(table, txn.id, leg, txn.status, txn.created_at))
        if pending:
            add = {"pending_out": -leg.amount, "available": leg.amount}
        else:
            add = {"posted": leg.amount, "available": leg.amount}
        items.append(_balance_update(table, leg, txn.currency, add, minimum))
    _run(table, items + (with_items or []))


def finish(txn_id: str, outcome: Outcome, now: int, table: Table | None = None) -> Transaction:
    """Settle (`posted`) or release (`voided`) a pending transaction, once:
    a reserved debit is paid or freed; a waiting credit is written now, or never."""
    table = table or Table()
    txn = get_transaction(txn_id, table)
    if txn is None:
        raise KeyError(txn_id)
    if txn.status != "pending":
        raise AlreadyApplied()
    items: list[dict[str, Any]] = [
        status_change(table.name, {"pk": f"LTXN#{txn_id}", "sk": "TXN"}, "pending", outcome, {"updated_at": now})
    ]
    for leg in txn.legs:
        if leg.amount > 0:
            if outcome == "posted":  # the credit arrives
                items.append(_put_posting(table, txn_id, leg, "posted", now))
                items.append(
                    _balance_update(table, leg, txn.currency, {"posted": leg.amount, "available": leg.amount}, None)
                )
            continue
        posting_key = {"pk": _balance_key(leg.account, leg.shard)["pk"], "sk": f"POST#{txn_id}"}
        items.append(
            {
                "Update": {
                    "TableName": table.name,
                    "Key": values(posting_key),
                    "UpdateExpression": "SET #status = :to",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": values({":to": outcome}),
                }
            }
        )
        if outcome == "posted":  # the reserved debit leaves pending_out for posted
            add = {"posted": leg.amount, "pending_out": leg.amount}
        else:  # the reservation is released
            add = {"pending_out": leg.amount, "available": -leg.amount}
        items.append(_balance_update(table, leg, txn.currency, add, None))
    _run(table, items)
    return txn


def get_transaction(txn_id: str, table: Table | None = None) -> Transaction | None:
    item = (table or Table()).get(f"LTXN#{txn_id}", "TXN")
    return None if item is None else transaction_from_item(item)


def get_balance(account: str, shard: int | None = None, table: Table | None = None) -> Balance | None:
    """One balance item: an account's, or one shard's of a house account."""
    item = (table or Table()).get(**_balance_key(account, shard))
    return None if item is None else balance_from_item(item)


def get_balances(account: str, table: Table | None = None) -> list[Balance]:
    """Every balance item of an account (itself, or each shard of a house account), in one read."""
    keys = [_balance_key(account, None)] + [_balance_key(account, shard) for shard in range(HOUSE_SHARDS)]
    found = (table or Table()).batch_get([(k["pk"], k["sk"]) for k in keys], consistent=True)
    return [balance_from_item(item) for item in found]


def list_accounts(table: Table | None = None) -> list[Balance]:
    """Every balance item (house accounts: each shard), from every index shard."""
    table = table or Table()
    found: list[Balance] = []
    for n in range(INDEX_SHARDS):
        items = table.query("gsi1pk = :pk", {":pk": f"LEDGERACCOUNTS#{n}"}, index="gsi1")
        found.extend(balance_from_item(item) for item in items)
    return found


def list_postings(account: str, shard: int | None = None, table: Table | None = None) -> list[Posting]:
    """The postings on one balance item (a house account's: one shard's)."""
    items = (table or Table()).query(
        "pk = :pk AND begins_with(sk, :prefix)", {":pk": _balance_key(account, shard)["pk"], ":prefix": "POST#"}
    )
    return [posting_from_item(item) for item in items]
