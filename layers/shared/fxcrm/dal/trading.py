"""Trading accounts, their types, and the simulated platform's state.

ACCTYPE#<platform> / <demo|live>#<id>   an account type (listed by platform, filtered by demo/live)
TACCT#<id> / ACCOUNT                    a trading account (owner, platform, server, login, type);
                                        gsi1: SERVER#<server>#<shard> / TACCT#<id> (accounts of a server,
                                        shard = id % SERVER_SHARDS: one Query per TradeSync shard)
TACCT#<id> / SYNC                       TradeSync's watermark for the account's deals, and digests of the
                                        snapshots last written (an unchanged snapshot is not rewritten)
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
SIMACCT#<server>#<login> / STATE        the simulated server's account (balance, credit, password hashes;
                                        `funded`, `last_op_at`: whether and when balance operations happened,
                                        so a sync reads the operations only when its window holds some)
SIMACCT#<server>#<login> / OP#<op id>  a simulated balance operation, written once (idempotency)
"""

import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal import ib_index, listing
from fxcrm.dal.errors import ConditionFailed
from fxcrm.dal.table import STREAM_PAGE_ITEMS, Item, Table, from_ddb, is_condition_failure, to_ddb, values


def account_type_item(account_type: Item) -> Item:
    kind = "demo" if account_type["is_demo"] else "live"
    return {**account_type, "pk": f"ACCTYPE#{account_type['trading_platform']}", "sk": f"{kind}#{account_type['id']}"}


def put_account_type(account_type: Item, table: Table | None = None) -> None:
    (table or Table()).put(account_type_item(account_type))


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


# Accounts of a server are spread over this many gsi1 keys, so that no key collects
# every account and each TradeSync shard reads its accounts with one Query.
SERVER_SHARDS = 16


def server_shard(account_id: int) -> int:
    return int(account_id) % SERVER_SHARDS


def server_key(server: str, shard: int) -> str:
    return f"SERVER#{server}#{shard}"


def create_trading_account(account: Item, table: Table | None = None) -> None:
    """The account, its owner index entry and its entries under the owner's
    IBs (`ib_index`), in one transaction."""
    table = table or Table()
    items = [
        {
            **account,
            "pk": f"TACCT#{account['id']}",
            "sk": "ACCOUNT",
            "gsi1pk": server_key(str(account["server"]), server_shard(int(account["id"]))),
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


def get_sim_accounts(server: str, logins: list[int], table: Table | None = None) -> dict[int, Item]:
    """Several simulated accounts by login (BatchGetItem, consistent like the single read)."""
    found = (table or Table()).batch_get([(f"SIMACCT#{server}#{login}", "STATE") for login in logins], consistent=True)
    return {int(item["login"]): item for item in found}


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
        # when, and whether money ever came in: a sync reads the operations only when needed
        "UpdateExpression": "ADD balance :amount SET last_op_at = :now" + (", funded = :yes" if amount > 0 else ""),
        "ExpressionAttributeValues": values(
            {":amount": amount, ":now": now}
            | ({":floor": -amount} if amount < 0 else {})
            | ({":yes": True} if amount > 0 else {})
        ),
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
    """Every account of a server: one Query per shard (and the unsharded key of
    accounts opened before the shards, until TradeSync has moved them)."""
    table = table or Table()
    keys = [server_key(server, shard) for shard in range(SERVER_SHARDS)] + [f"SERVER#{server}"]
    return [
        item
        for key in keys
        for item in table.query(
            "gsi1pk = :pk AND begins_with(gsi1sk, :prefix)", {":pk": key, ":prefix": "TACCT#"}, index="gsi1"
        )
    ]


def get_watermark(account_id: int, table: Table | None = None) -> int | None:
    found = (table or Table()).get(f"TACCT#{account_id}", "SYNC")
    return int(found["deals_until"]) if found else None


def set_watermark(account_id: int, deals_until: int, table: Table | None = None, **digests: str) -> None:
    (table or Table()).put({"pk": f"TACCT#{account_id}", "sk": "SYNC", "deals_until": deals_until, **digests})


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


def arrival_pages(
    month: str, start: int, end: int, size: int, attributes: list[str] | None = None, table: Table | None = None
) -> Iterator[list[Item]]:
    """The closed trades first recorded in a month (yyyy-mm) at a time in [start, end],
    oldest first, a page of up to `size` at a time, read as they are consumed (a
    settlement chunk is never held whole); only `attributes` of each, if given."""
    table = table or Table()
    kwargs: dict[str, Any] = {
        "TableName": table.name,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :start AND :end",
        "ExpressionAttributeValues": values(
            {":pk": f"HORDERIN#{month}", ":start": f"{start:010d}#", ":end": f"{end:010d}#~"}
        ),
        "Limit": size,
    }
    if attributes:
        kwargs["ProjectionExpression"] = ", ".join(f"#a{n}" for n in range(len(attributes)))
        kwargs["ExpressionAttributeNames"] = {f"#a{n}": name for n, name in enumerate(attributes)}
    while True:
        page = table.client.query(**kwargs)
        items = [from_ddb(raw) for raw in page.get("Items", [])]
        if items:
            yield items
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def first_arrival_time(month: str, start: int, end: int, table: Table | None = None) -> int | None:
    """When the first trade recorded in a month at a time in [start, end] was recorded."""
    for page in arrival_pages(month, start, end, 1, table=table):
        return int(page[0]["recorded_at"])
    return None


def list_account_history(account_id: int, start: int, end: int, table: Table | None = None) -> list[Item]:
    """An account's closed trades with a close time in [start, end], newest first."""
    return list(stream_account_history(account_id, start, end, table=table))


def stream_account_history(account_id: int, start: int, end: int, table: Table | None = None) -> Iterator[Item]:
    """As `list_account_history`, page by page (exports)."""
    return (table or Table()).stream(
        "gsi1pk = :pk AND gsi1sk BETWEEN :start AND :end",
        {":pk": f"ACCTHIST#{account_id}", ":start": f"{start:010d}#", ":end": f"{end:010d}#~"},
        index="gsi1",
        forward=False,
        page_items=STREAM_PAGE_ITEMS,
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
    return list(stream_month_history(month, start, end, table=table))


def stream_month_history(month: str, start: int, end: int, table: Table | None = None) -> Iterator[Item]:
    """As `list_month_history`, read as it is consumed: the month's shards merged (exports, reports)."""
    parts = month_history_parts(month, start, end)
    return listing.merged(table or Table(), parts, lambda i: str(i["gsi2sk"]), chunk=STREAM_PAGE_ITEMS)


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
