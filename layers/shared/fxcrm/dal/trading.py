"""Trading accounts, their types, and the simulated platform's state.

ACCTYPE#<platform> / <demo|live>#<id>   an account type (listed by platform, filtered by demo/live)
TACCT#<id> / ACCOUNT                    a trading account (owner, platform, server, login, type);
                                        gsi1: SERVER#<server> / TACCT#<id> (accounts of a server)
TACCT#<id> / SYNC                       TradeSync's watermark for the account's deals
TACCT#<id> / POSITIONS, / ORDERS        the latest snapshot of open positions and pending orders
DEAL#<server>#<ticket> / DEAL           a deal; gsi1: ACCTDEALS#<account id> / <time>#<ticket>
POSOPEN#<server>#<position> / OPEN      a position's opening deal (joined to its close)
HORDER#<server>#<ticket> / HORDER       a closed trade (history order); gsi1: ACCTHIST#<account id> /
                                        <close time>#<ticket>; gsi2: HORDERS#<yyyy-mm>#<shard 0-7> /
                                        <close time>#<server>#<ticket>;
                                        `recorded_at`: when TradeSync first stored it
HORDERIN#<yyyy-mm> / <recorded at>#<server>#<ticket>
                                        the same trade under the time it was first recorded (what settlement reads)
USER#<user id> / TACCT#<id>             the owner's index entry of the account (list my accounts)
SIMSERVER#<server> / COUNTER            the simulated server's last account number
SIMACCT#<server>#<login> / STATE        the simulated server's account (balance, credit, password hashes)
SIMACCT#<server>#<login> / OP#<op id>  a simulated balance operation, written once (idempotency)
"""

import zlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal import ib_index, listing
from fxcrm.dal.errors import ConditionFailed
from fxcrm.dal.table import Item, Table, is_condition_failure, to_ddb, values


def put_account_type(account_type: Item, table: Table | None = None) -> None:
    kind = "demo" if account_type["is_demo"] else "live"
    (table or Table()).put(
        {**account_type, "pk": f"ACCTYPE#{account_type['trading_platform']}", "sk": f"{kind}#{account_type['id']}"}
    )


def list_account_types(platform: str, is_demo: bool | None, table: Table | None = None) -> list[Item]:
    table = table or Table()
    condition = "pk = :pk"
    expression_values: Item = {":pk": f"ACCTYPE#{platform}"}
    if is_demo is not None:
        condition += " AND begins_with(sk, :kind)"
        expression_values[":kind"] = "demo#" if is_demo else "live#"
    return table.query(condition, expression_values)


def get_account_type(platform: str, type_id: int, is_demo: bool, table: Table | None = None) -> Item | None:
    kind = "demo" if is_demo else "live"
    return (table or Table()).get(f"ACCTYPE#{platform}", f"{kind}#{type_id}", consistent=False)


def create_trading_account(account: Item, table: Table | None = None) -> None:
    """The account, its owner index entry and its entries under the owner's
    IBs (`ib_index`), in one transaction."""
    table = table or Table()
    items = [
        {
            **account,
            "pk": f"TACCT#{account['id']}",
            "sk": "ACCOUNT",
            "gsi1pk": f"SERVER#{account['server']}",
            "gsi1sk": f"TACCT#{account['id']}",
        },
        {
            "pk": f"USER#{account['user_id']}",
            "sk": f"TACCT#{account['id']}",
            "account_id": account["id"],
            "is_demo": account["is_demo"],
            "record_type": account["record_type"],
        },
    ]
    table.transact_put_new(*items, also=ib_index.new_account_requests(account, table))


def get_trading_account(account_id: int, table: Table | None = None) -> Item | None:
    return (table or Table()).get(f"TACCT#{account_id}", "ACCOUNT")


def list_user_account_ids(user_id: int, table: Table | None = None) -> list[Item]:
    return (table or Table()).query(
        "pk = :pk AND begins_with(sk, :prefix)", {":pk": f"USER#{user_id}", ":prefix": "TACCT#"}
    )


def get_trading_accounts(account_ids: list[int], table: Table | None = None) -> list[Item]:
    return (table or Table()).batch_get([(f"TACCT#{i}", "ACCOUNT") for i in account_ids])


# ---------------------------------------------------------------- simulated platform


def next_login(server: str, first: int, table: Table | None = None) -> int:
    """Allocate the server's next account number (an atomic counter: logins are
    few and must be sequential per server, as on a real MT server)."""
    updated = (table or Table()).update(f"SIMSERVER#{server}", "COUNTER", "ADD last_login :one", {":one": 1})
    return first + int(updated["last_login"])


def create_sim_account(state: Item, table: Table | None = None) -> None:
    (table or Table()).put(
        {**state, "pk": f"SIMACCT#{state['server']}#{state['login']}", "sk": "STATE"},
        condition="attribute_not_exists(pk)",
    )


def get_sim_account(server: str, login: int, table: Table | None = None) -> Item | None:
    return (table or Table()).get(f"SIMACCT#{server}#{login}", "STATE")


def set_sim_password(server: str, login: int, field: str, password_hash: str, table: Table | None = None) -> None:
    (table or Table()).update(
        f"SIMACCT#{server}#{login}",
        "STATE",
        "SET #field = :hash",
        {":hash": password_hash},
        condition="attribute_exists(pk)",
        names={"#field": field},
    )


class OperationExists(ConditionFailed):
    pass


class InsufficientBalance(ConditionFailed):
    pass


def apply_sim_balance(
    server: str, login: int, amount: Decimal, operation_id: str, ticket: int, now: int, table: Table | None = None
) -> None:
    """Write the operation once and change the balance with it, atomically; a
    debit may not take the balance below zero."""
    table = table or Table()
    update: dict[str, Any] = {
        "TableName": table.name,
        "Key": values({"pk": f"SIMACCT#{server}#{login}", "sk": "STATE"}),
        "UpdateExpression": "ADD balance :amount",
        "ExpressionAttributeValues": values({":amount": amount} | ({":floor": -amount} if amount < 0 else {})),
        "ConditionExpression": "attribute_exists(pk)" + (" AND balance >= :floor" if amount < 0 else ""),
    }
    operation = {
        "pk": f"SIMACCT#{server}#{login}",
        "sk": f"OP#{operation_id}",
        "operation_id": operation_id,
        "ticket": ticket,
        "login": login,
        "amount": amount,
        "time": now,
    }
    try:
        table.client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table.name,
                        "Item": to_ddb(operation),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {"Update": update},
            ]
        )
    except ClientError as error:
        if not is_condition_failure(error):
            raise
        reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            raise OperationExists(operation_id) from error
        raise InsufficientBalance(operation_id) from error


def get_sim_operation(server: str, login: int, operation_id: str, table: Table | None = None) -> Item | None:
    return (table or Table()).get(f"SIMACCT#{server}#{login}", f"OP#{operation_id}")


def list_sim_operations(server: str, login: int, table: Table | None = None) -> list[Item]:
    return (table or Table()).query(
        "pk = :pk AND begins_with(sk, :prefix)", {":pk": f"SIMACCT#{server}#{login}", ":prefix": "OP#"}
    )


# ---------------------------------------------------------------- synchronised trading data


def list_server_accounts(server: str, table: Table | None = None) -> list[Item]:
    return (table or Table()).query(
        "gsi1pk = :pk AND begins_with(gsi1sk, :prefix)", {":pk": f"SERVER#{server}", ":prefix": "TACCT#"}, index="gsi1"
    )


def get_watermark(account_id: int, table: Table | None = None) -> int | None:
    found = (table or Table()).get(f"TACCT#{account_id}", "SYNC")
    return int(found["deals_until"]) if found else None


def set_watermark(account_id: int, deals_until: int, table: Table | None = None) -> None:
    (table or Table()).put({"pk": f"TACCT#{account_id}", "sk": "SYNC", "deals_until": deals_until})


def put_deals(deals: list[Item], table: Table | None = None) -> None:
    """Write deals keyed by server and ticket: a deal written again is the same item."""
    (table or Table()).batch_put(
        [
            {
                **d,
                "pk": f"DEAL#{d['server']}#{d['ticket']}",
                "sk": "DEAL",
                "gsi1pk": f"ACCTDEALS#{d['account_id']}",
                "gsi1sk": f"{d['time']}#{d['ticket']}",
            }
            for d in deals
        ]
    )


def put_open_legs(server: str, deals: list[Item], table: Table | None = None) -> None:
    """Remember each position's opening deal, for the history order its close makes."""
    (table or Table()).batch_put([{**d, "pk": f"POSOPEN#{server}#{d['position_id']}", "sk": "OPEN"} for d in deals])


def get_open_legs(server: str, position_ids: set[int], table: Table | None = None) -> dict[int, Item]:
    found = (table or Table()).batch_get([(f"POSOPEN#{server}#{p}", "OPEN") for p in sorted(position_ids)])
    return {int(item["position_id"]): item for item in found}


# Every closed trade of a month under one gsi2 key would be one hot partition
# (10 million trades a month): the month is split into shards by the trade's key.
HORDER_SHARDS = 8


def horder_shard(server: str, ticket: int) -> int:
    """The trade's shard: a stable hash of its key, so a trade synced again lands in the same one."""
    return zlib.crc32(f"{server}#{ticket}".encode()) % HORDER_SHARDS


def month_history_keys(month: str) -> list[str]:
    """The gsi2 keys of a month's closed trades: its shards, and the unsharded
    key trades stored before the shards were written under (until synced again)."""
    return [f"HORDERS#{month}#{shard}" for shard in range(HORDER_SHARDS)] + [f"HORDERS#{month}"]


def history_order_keys(row: Item) -> Item:
    """A closed trade: by account (gsi1) and by close month and shard (gsi2), in close-time order."""
    close = int(row["close_time"])
    month = datetime.fromtimestamp(close, UTC).strftime("%Y-%m")
    pk, sk = history_order_key(str(row["server"]), int(row["ticket"]))
    return {
        "pk": pk,
        "sk": sk,
        "gsi1pk": f"ACCTHIST#{row['account_id']}",
        "gsi1sk": f"{close:010d}#{row['ticket']}",
        "gsi2pk": f"HORDERS#{month}#{horder_shard(str(row['server']), int(row['ticket']))}",
        "gsi2sk": f"{close:010d}#{row['server']}#{row['ticket']}",
    }


def arrival_keys(row: Item) -> Item:
    """A closed trade by the time it was first recorded (month partitions, like gsi2's)."""
    at = int(row["recorded_at"])
    month = datetime.fromtimestamp(at, UTC).strftime("%Y-%m")
    return {"pk": f"HORDERIN#{month}", "sk": f"{at:010d}#{row['server']}#{row['ticket']}"}


def put_history_orders(rows: list[Item], recorded_at: int, table: Table | None = None) -> int:
    """Closed trades keyed by server and closing ticket: a trade written again
    is the same item and keeps the time it was first recorded. A trade stored
    for the first time is also written under that time (`HORDERIN#…`), and
    that first, so a run that dies in between leaves no trade unrecorded.
    Returns how many trades were new."""
    table = table or Table()
    by_key = {(str(r["server"]), int(r["ticket"])): r for r in rows}
    stored = {
        (str(i["server"]), int(i["ticket"])): i
        for i in table.batch_get([history_order_key(s, t) for s, t in by_key], consistent=True)
    }
    new, again = [], []
    for key, row in by_key.items():
        if key not in stored:
            new.append(row | {"recorded_at": recorded_at})
        else:  # re-read through the sync's overlap: not a new arrival
            first = stored[key].get("recorded_at")
            again.append(row | ({"recorded_at": first} if first is not None else {}))
    table.batch_put([{**row, **arrival_keys(row)} for row in new])
    ib_index.record_trades(new, table)  # before the trades: a re-run finds them new and indexes them once
    table.batch_put([{**row, **history_order_keys(row)} for row in new + again])
    return len(new)


def history_order_key(server: str, ticket: int) -> tuple[str, str]:
    return f"HORDER#{server}#{ticket}", "HORDER"


def list_arrivals(month: str, start: int, end: int, table: Table | None = None) -> list[Item]:
    """The closed trades first recorded in a month (yyyy-mm) at a time in [start, end], oldest first."""
    return (table or Table()).query(
        "pk = :pk AND sk BETWEEN :start AND :end",
        {":pk": f"HORDERIN#{month}", ":start": f"{start:010d}#", ":end": f"{end:010d}#~"},
    )


def list_account_history(account_id: int, start: int, end: int, table: Table | None = None) -> list[Item]:
    """An account's closed trades with a close time in [start, end], newest first."""
    return (table or Table()).query(
        "gsi1pk = :pk AND gsi1sk BETWEEN :start AND :end",
        {":pk": f"ACCTHIST#{account_id}", ":start": f"{start:010d}#", ":end": f"{end:010d}#~"},
        index="gsi1",
        forward=False,
    )


def latest_account_history(account_id: int, limit: int, table: Table | None = None) -> list[Item]:
    """An account's `limit` newest closed trades (one Query of `limit` items)."""
    found, _ = (table or Table()).query_page(
        "gsi1pk = :pk", {":pk": f"ACCTHIST#{account_id}"}, index="gsi1", forward=False, limit=limit
    )
    return found


def month_history_parts(month: str, start: int, end: int) -> list[listing.Part]:
    """The Queries of a month's closed trades with a close time in [start, end]: one per shard."""
    return [
        listing.Part(
            "gsi2pk = :pk AND gsi2sk BETWEEN :start AND :end",
            {":pk": pk, ":start": f"{start:010d}#", ":end": f"{end:010d}#~"},
            index="gsi2",
        )
        for pk in month_history_keys(month)
    ]


def list_month_history(month: str, start: int, end: int, table: Table | None = None) -> list[Item]:
    """Every closed trade of a month (yyyy-mm) with a close time in [start, end], newest first."""
    table = table or Table()
    return list(listing.merged(table, month_history_parts(month, start, end), lambda i: i["gsi2sk"], chunk=1000))


def get_snapshots(account_ids: list[int], kind: str, table: Table | None = None) -> dict[int, Item]:
    """Positions or pending orders of several accounts (BatchGetItem)."""
    found = (table or Table()).batch_get([(f"TACCT#{a}", kind) for a in account_ids])
    return {int(item["pk"].removeprefix("TACCT#")): item for item in found}


def list_account_deals(account_id: int, table: Table | None = None) -> list[Item]:
    return (table or Table()).query("gsi1pk = :pk", {":pk": f"ACCTDEALS#{account_id}"}, index="gsi1")


def put_snapshot(account_id: int, kind: str, rows: list[Item], synced_at: int, table: Table | None = None) -> None:
    (table or Table()).put({"pk": f"TACCT#{account_id}", "sk": kind, "rows": rows, "synced_at": synced_at})


def get_snapshot(account_id: int, kind: str, table: Table | None = None) -> Item | None:
    return (table or Table()).get(f"TACCT#{account_id}", kind)
