"""TradeSync's shards: the accounts of a shard, a cursor per shard, batched state.

SYNCSHARD#<server>#<shard> / CURSOR   after: the gsi1 sort key (TACCT#<id>) of the last account done in
                                      the pass under way (absent: no pass under way); pass_started;
                                      finished_at (the last pass's end); holder, lease_until (one worker
                                      at a time per shard)
TACCT#<id> / SYNC                     deals_until (the account's watermark), positions_digest, orders_digest

A shard's accounts are `SERVER#<server>#<shard>` on gsi1 (fxcrm.dal.trading), read in
gsi1 sort-key order from the cursor, a page at a time.
"""

from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal.table import Item, Table, from_ddb, is_condition_failure, values
from fxcrm.dal.trading import server_key, server_shard

FIRST = "TACCT#"  # below every account's gsi1 sort key


def cursor_key(server: str, shard: int) -> tuple[str, str]:
    return f"SYNCSHARD#{server}#{shard}", "CURSOR"


def list_shard_accounts(
    server: str, shard: int, after: str, limit: int, table: Table | None = None
) -> tuple[list[Item], bool]:
    """Up to `limit` accounts of the shard after the sort key `after`, in order;
    and whether there may be more."""
    table = table or Table()
    page = table.client.query(
        TableName=table.name,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk AND gsi1sk > :after",
        ExpressionAttributeValues=values({":pk": server_key(server, shard), ":after": after}),
        Limit=limit,
    )
    return [from_ddb(raw) for raw in page.get("Items", [])], "LastEvaluatedKey" in page


def get_cursors(keys: list[tuple[str, int]], table: Table | None = None) -> dict[tuple[str, int], Item]:
    found = (table or Table()).batch_get([cursor_key(server, shard) for server, shard in keys], consistent=True)
    return {(str(c["server"]), int(c["shard"])): c for c in found}


def take_shard(
    server: str, shard: int, holder: str, now: int, lease_seconds: int, table: Table | None = None
) -> Item | None:
    """Lease the shard to `holder`; its cursor, or None while another worker holds it."""
    pk, sk = cursor_key(server, shard)
    try:
        return (table or Table()).update(
            pk,
            sk,
            "SET holder = :holder, lease_until = :until, #server = :server, #shard = :shard",
            {":holder": holder, ":until": now + lease_seconds, ":now": now, ":server": server, ":shard": shard},
            condition="attribute_not_exists(lease_until) OR lease_until < :now OR holder = :holder",
            names={"#server": "server", "#shard": "shard"},  # reserved words
        )
    except ClientError as error:
        if is_condition_failure(error):
            return None
        raise


def _held(server: str, shard: int, holder: str, expression: str, extra: Item, table: Table | None) -> bool:
    """An update of the cursor, only while `holder` has the lease."""
    pk, sk = cursor_key(server, shard)
    try:
        (table or Table()).update(
            pk,
            sk,
            expression,
            {":holder": holder} | extra,
            condition="holder = :holder",
            names={"#after": "after"} if "#after" in expression else None,  # `after` is a reserved word
        )
    except ClientError as error:
        if is_condition_failure(error):
            return False  # the lease ran out and another worker took the shard: it goes on from the cursor
        raise
    return True


def advance_shard(server: str, shard: int, holder: str, after: str, started: int, table: Table | None = None) -> bool:
    """Record the last account done (and when the pass started)."""
    expression = "SET #after = :after, pass_started = if_not_exists(pass_started, :started)"
    return _held(server, shard, holder, expression, {":after": after, ":started": started}, table)


def finish_shard(server: str, shard: int, holder: str, now: int, table: Table | None = None) -> bool:
    """The pass is complete: the next one starts from the first account."""
    expression = "SET finished_at = :now REMOVE #after, pass_started, holder, lease_until"
    return _held(server, shard, holder, expression, {":now": now}, table)


def release_shard(server: str, shard: int, holder: str, table: Table | None = None) -> None:
    _held(server, shard, holder, "REMOVE holder, lease_until", {}, table)


def get_sync_states(account_ids: list[int], table: Table | None = None) -> dict[int, Item]:
    """The accounts' watermarks and snapshot digests (BatchGetItem)."""
    found = (table or Table()).batch_get([(f"TACCT#{a}", "SYNC") for a in account_ids], consistent=True)
    return {int(item["pk"].removeprefix("TACCT#")): item for item in found}


def put_sync_states(states: list[Item], table: Table | None = None) -> None:
    """Watermarks (and digests), written after everything they vouch for (BatchWriteItem)."""
    (table or Table()).batch_put([{**s, "pk": f"TACCT#{s.pop('account_id')}", "sk": "SYNC"} for s in states])


def put_snapshots(snapshots: list[tuple[int, str, list[Item]]], synced_at: int, table: Table | None = None) -> None:
    """Positions or orders snapshots of several accounts (BatchWriteItem)."""
    (table or Table()).batch_put(
        [{"pk": f"TACCT#{a}", "sk": kind, "rows": rows, "synced_at": synced_at} for a, kind, rows in snapshots]
    )


def move_unsharded_accounts(server: str, limit: int, table: Table | None = None) -> int:
    """Give accounts stored under the unsharded `SERVER#<server>` key (from before
    the shards) their shard's key; returns how many were moved."""
    table = table or Table()
    page = table.client.query(
        TableName=table.name,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues=values({":pk": f"SERVER#{server}"}),
        Limit=limit,
    )
    moved = 0
    for raw in page.get("Items", []):
        account: dict[str, Any] = from_ddb(raw)
        table.update(
            account["pk"],
            account["sk"],
            "SET gsi1pk = :key",
            {":key": server_key(server, server_shard(int(account["id"])))},
            condition="attribute_exists(pk)",
        )
        moved += 1
    return moved
