"""The double-entry ledger.

LEDGER#<account> / BALANCE        posted, pending_out (reserved), available (= posted - pending_out),
                                  currency, guarded (no negative available);
                                  gsi1: LEDGERACCOUNTS / <account> (the list of accounts, for verify)
LEDGER#<account> / POST#<txn id>  one posting: amount (signed; + raises the balance), status
LTXN#<txn id> / TXN               the transaction: legs, status (pending | posted | voided), kind, ref

Every change of a transaction is one TransactWriteItems over the transaction,
its postings and the balances, so they never disagree. A transaction id is
written once: posting the same id again is reported, not repeated.
"""

from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal.errors import ConditionFailed
from fxcrm.dal.models.ledger import (
    Balance,
    Outcome,
    Posting,
    Transaction,
    balance_from_item,
    posting_from_item,
    transaction_from_item,
)
from fxcrm.dal.table import Item, Table, status_change, to_ddb, values


class AlreadyApplied(ConditionFailed):
    """The transaction id exists already (or has already moved on)."""


class InsufficientFunds(ConditionFailed):
    def __init__(self, account: str) -> None:
        super().__init__(account)
        self.account = account


def _balance_update(
    table: Table, account: str, currency: str, guarded: bool, add: dict[str, Decimal], floor: Decimal | None
) -> dict[str, Any]:
    """Change a balance; with `floor`, only if `available >= floor` (a guarded debit)."""
    names = {f"#{k}": k for k in add}
    update = "ADD " + ", ".join(f"#{k} :{k}" for k in add)
    update += (
        " SET currency = if_not_exists(currency, :currency), account = if_not_exists(account, :account),"
        " guarded = if_not_exists(guarded, :guarded), gsi1pk = :gsi1pk, gsi1sk = :account"
    )
    expression_values: Item = {f":{k}": v for k, v in add.items()} | {
        ":currency": currency,
        ":account": account,
        ":guarded": guarded,
        ":gsi1pk": "LEDGERACCOUNTS",
    }
    conditions = []
    if guarded:
        conditions.append("attribute_exists(pk)")  # guarded accounts are opened explicitly
    if floor is not None:
        conditions.append("available >= :floor")
        expression_values[":floor"] = floor
    request: dict[str, Any] = {
        "TableName": table.name,
        "Key": values({"pk": f"LEDGER#{account}", "sk": "BALANCE"}),
        "UpdateExpression": update,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values(expression_values),
    }
    if conditions:
        request["ConditionExpression"] = " AND ".join(conditions)
    return {"Update": request}


def open_account(account: str, currency: str, guarded: bool, table: Table | None = None) -> None:
    """Create the balance item (zero) unless it exists: a guarded account exists
    before its first posting, so no first-spend race."""
    table = table or Table()
    try:
        table.put(
            {
                "pk": f"LEDGER#{account}",
                "sk": "BALANCE",
                "account": account,
                "currency": currency,
                "guarded": guarded,
                "posted": Decimal(0),
                "pending_out": Decimal(0),
                "available": Decimal(0),
                "gsi1pk": "LEDGERACCOUNTS",
                "gsi1sk": account,
            },
            condition="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def _run(table: Table, items: list[dict[str, Any]]) -> None:
    """Run one transaction; name what stopped it: the transaction exists or
    has moved on (AlreadyApplied), or a guarded balance is short."""
    try:
        table.client.transact_write_items(TransactItems=items)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise AlreadyApplied() from error
        for index, code in enumerate(reasons):
            if code == "ConditionalCheckFailed" and items[index].get("Update", {}).get("Key", {}).get("sk") == {
                "S": "BALANCE"
            }:
                raw = items[index]["Update"]["Key"]["pk"]["S"]
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
    (available falls, pending_out rises) and credits wait; posted: every
    balance moves now."""
    table = table or Table()
    if txn.status == "voided":
        raise ValueError(f"{txn.id}: a transaction is written pending or posted")
    pending = txn.status == "pending"
    record = {**txn.to_item(), "pk": f"LTXN#{txn.id}", "sk": "TXN"}
    items: list[dict[str, Any]] = [
        {"Put": {"TableName": table.name, "Item": to_ddb(record), "ConditionExpression": "attribute_not_exists(pk)"}}
    ]
    for leg in txn.legs:
        account, amount, guarded = leg.account, leg.amount, leg.guarded
        posting = Posting(txn_id=txn.id, amount=amount, status=txn.status, at=txn.created_at)
        key = {"pk": f"LEDGER#{account}", "sk": f"POST#{txn.id}"}
        items.append({"Put": {"TableName": table.name, "Item": to_ddb(key | posting.to_item())}})
        minimum = -amount if (amount < 0 and guarded and floor) else None
        if pending:
            if amount < 0:
                add = {"pending_out": -amount, "available": amount}
                items.append(_balance_update(table, account, txn.currency, guarded, add, minimum))
            else:
                # a pending credit moves nothing yet, but its account must exist
                # (guarded) or be listed (so verify counts its postings)
                items.append(_balance_update(table, account, txn.currency, guarded, {"posted": Decimal(0)}, None))
        else:
            add = {"posted": amount, "available": amount}
            items.append(_balance_update(table, account, txn.currency, guarded, add, minimum))
    _run(table, items + (with_items or []))


def finish(txn_id: str, outcome: Outcome, now: int, table: Table | None = None) -> Transaction:
    """Settle (`posted`) or release (`voided`) a pending transaction, once."""
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
        account, amount, guarded = leg.account, leg.amount, leg.guarded
        items.append(
            {
                "Update": {
                    "TableName": table.name,
                    "Key": values({"pk": f"LEDGER#{account}", "sk": f"POST#{txn_id}"}),
                    "UpdateExpression": "SET #status = :to",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": values({":to": outcome}),
                }
            }
        )
        if outcome == "posted":
            # a reserved debit leaves pending_out for posted; a waiting credit arrives
            add = {"posted": amount, "pending_out": amount} if amount < 0 else {"posted": amount, "available": amount}
        elif amount < 0:
            add = {"pending_out": amount, "available": -amount}  # the reservation is released
        else:
            continue  # a voided credit never moved anything
        items.append(_balance_update(table, account, txn.currency, guarded, add, None))
    _run(table, items)
    return txn


def get_transaction(txn_id: str, table: Table | None = None) -> Transaction | None:
    item = (table or Table()).get(f"LTXN#{txn_id}", "TXN")
    return None if item is None else transaction_from_item(item)


def get_balance(account: str, table: Table | None = None) -> Balance | None:
    item = (table or Table()).get(f"LEDGER#{account}", "BALANCE")
    return None if item is None else balance_from_item(item)


def list_accounts(table: Table | None = None) -> list[Balance]:
    items = (table or Table()).query("gsi1pk = :pk", {":pk": "LEDGERACCOUNTS"}, index="gsi1")
    return [balance_from_item(item) for item in items]


def list_postings(account: str, table: Table | None = None) -> list[Posting]:
    items = (table or Table()).query(
        "pk = :pk AND begins_with(sk, :prefix)", {":pk": f"LEDGER#{account}", ":prefix": "POST#"}
    )
    return [posting_from_item(item) for item in items]
