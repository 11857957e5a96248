"""Rebate settlement records.

REBATE#STATE / WATERMARK         settled_until: trades recorded (by TradeSync) up to here are settled;
                                 basis: `recorded` (absent: written when runs went by close time)
                                 backlog_until: a backlog flow is settling up to here (hourly runs wait)
REBATE#STATE / LOCK              holder, expires_at: one settlement run at a time (a lease)
REBATE#PART#<start>-<end> / CURSOR
                                 settled_until: how far a backlog flow's partition has settled
RBDETAIL#<server>#<ticket>#<level> / DETAIL
                                 one commission-detail record per trade and IB level, written once;
                                 gsi1: RBIB#<ib id> / <calculate_at>#<server>#<ticket>#<level> (an IB's details);
                                 gsi2: RBAGG#<aggregation id> / <server>#<ticket>#<level> (an aggregation's details)
RBAGG#<aggregation id> / AGG     a commission record: one IB's rebates of one run (or adjustment);
                                 gsi1: RBAGGIB#<ib id> / <calculate_at>#<id>;
                                 gsi2: RBAGGS#<yyyy-mm> / <calculate_at>#<id>
RBRUN#<run id> / RUN             a settlement run's summary (trades, details, unknown symbols, skipped)
"""

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal import listing
from fxcrm.dal.table import STREAM_PAGE_ITEMS, Item, Table, is_condition_failure, status_change, to_ddb

STATE = "REBATE#STATE"


def detail_key(server: str, ticket: int, level: int) -> tuple[str, str]:
    return f"RBDETAIL#{server}#{ticket}#{level}", "DETAIL"


def detail_id(detail: Item) -> int:
    """The row's own id (the IB portal's `rebate_id`): a JavaScript-safe hash of
    its key, so every detail has one, stored before this id existed or not."""
    key = f"{detail['server']}#{int(detail['ticket'])}#{int(detail['level'])}"
    return int(hashlib.sha256(f"detail:{key}".encode()).hexdigest()[:13], 16)


def detail_item(detail: Item) -> Item:
    pk, sk = detail_key(detail["server"], int(detail["ticket"]), int(detail["level"]))
    suffix = f"{detail['server']}#{detail['ticket']}#{detail['level']}"
    return {
        **detail,
        "pk": pk,
        "sk": sk,
        "gsi1pk": f"RBIB#{detail['ib_id']}",
        "gsi1sk": f"{int(detail['calculate_at']):010d}#{suffix}",
        "gsi2pk": f"RBAGG#{detail['aggregation_id']}",
        "gsi2sk": suffix,
    }


def put_new_details(details: list[Item], table: Table | None = None) -> list[Item]:
    """Write each detail only if its trade and level have none yet, 100 to a
    transaction; returns the details that were already there (stored form)."""
    table = table or Table()
    existing: list[Item] = []
    for start in range(0, len(details), 100):
        chunk = [detail_item(d) for d in details[start : start + 100]]
        puts = [
            {"Put": {"TableName": table.name, "Item": to_ddb(i), "ConditionExpression": "attribute_not_exists(pk)"}}
            for i in chunk
        ]
        try:
            table.client.transact_write_items(TransactItems=puts)
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            for item in chunk:  # some were there: write the rest one by one
                try:
                    table.put(item, condition="attribute_not_exists(pk)")
                except ClientError as single:
                    if not is_condition_failure(single):
                        raise
                    found = table.get(item["pk"], item["sk"])
                    if found is not None:
                        existing.append(found)
    return existing


def get_details(keys: list[tuple[str, int, int]], table: Table | None = None) -> list[Item]:
    return (table or Table()).batch_get([detail_key(s, t, lv) for s, t, lv in keys])


def put_details(details: list[Item], table: Table | None = None) -> None:
    """Overwrite details (a recomputation the staff applied)."""
    (table or Table()).batch_put([detail_item(d) for d in details])


def aggregation_item(aggregation: Item) -> Item:
    at = int(aggregation["calculate_at"])
    month = datetime.fromtimestamp(at, UTC).strftime("%Y-%m")
    return {
        **aggregation,
        "pk": f"RBAGG#{aggregation['id']}",
        "sk": "AGG",
        "gsi1pk": f"RBAGGIB#{aggregation['ib_id']}",
        "gsi1sk": f"{at:010d}#{aggregation['id']}",
        "gsi2pk": f"RBAGGS#{month}",
        "gsi2sk": f"{at:010d}#{aggregation['id']}",
    }


def put_aggregation_request(aggregation: Item, table: Table | None = None) -> dict[str, Any]:
    """The commission record as one Put of the ledger's transaction (written with its credit)."""
    table = table or Table()
    return {
        "Put": {
            "TableName": table.name,
            "Item": to_ddb(aggregation_item(aggregation)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def put_held_aggregation(aggregation: Item, table: Table | None = None) -> bool:
    """A commission record held for staff approval; False if it exists already."""
    try:
        (table or Table()).put(aggregation_item(aggregation), condition="attribute_not_exists(pk)")
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def grant_request(aggregation_id: int, granted_by: str, now: int, table: Table | None = None) -> dict[str, Any]:
    """Mark a held record granted, in the ledger's transaction that credits it."""
    key = {"pk": f"RBAGG#{aggregation_id}", "sk": "AGG"}
    return status_change((table or Table()).name, key, "held", "granted", {"grant_at": now, "granted_by": granted_by})


def get_aggregation(aggregation_id: int, table: Table | None = None) -> Item | None:
    return (table or Table()).get(f"RBAGG#{aggregation_id}", "AGG")


def list_ib_aggregations(ib_id: int, start: int, end: int, table: Table | None = None) -> list[Item]:
    return (table or Table()).query(
        "gsi1pk = :pk AND gsi1sk BETWEEN :start AND :end",
        {":pk": f"RBAGGIB#{ib_id}", ":start": f"{start:010d}#", ":end": f"{end:010d}#~"},
        index="gsi1",
        forward=False,
    )


def list_month_aggregations(month: str, start: int, end: int, table: Table | None = None) -> list[Item]:
    return (table or Table()).query(
        "gsi2pk = :pk AND gsi2sk BETWEEN :start AND :end",
        {":pk": f"RBAGGS#{month}", ":start": f"{start:010d}#", ":end": f"{end:010d}#~"},
        index="gsi2",
        forward=False,
    )


def list_ib_details(ib_id: int, start: int, end: int, table: Table | None = None) -> list[Item]:
    return list(stream_ib_details(ib_id, start, end, table=table))


def stream_ib_details(ib_id: int, start: int, end: int, table: Table | None = None) -> Iterator[Item]:
    """An IB's details calculated in [start, end], newest first, page by page (exports)."""
    return (table or Table()).stream(
        "gsi1pk = :pk AND gsi1sk BETWEEN :start AND :end",
        {":pk": f"RBIB#{ib_id}", ":start": f"{start:010d}#", ":end": f"{end:010d}#~"},
        index="gsi1",
        forward=False,
        page_items=STREAM_PAGE_ITEMS,
    )


def ib_aggregations_part(ib_id: int, start: int, end: int) -> listing.Part:
    """The Query of an IB's commission records calculated in [start, end] (gsi1, by time)."""
    return listing.Part(
        "gsi1pk = :pk AND gsi1sk BETWEEN :start AND :end",
        {":pk": f"RBAGGIB#{ib_id}", ":start": f"{start:010d}#", ":end": f"{end:010d}#~"},
        index="gsi1",
    )


def ib_details_part(ib_id: int, start: int, end: int) -> listing.Part:
    """The Query of an IB's commission details calculated in [start, end] (gsi1, by time)."""
    return listing.Part(
        "gsi1pk = :pk AND gsi1sk BETWEEN :start AND :end",
        {":pk": f"RBIB#{ib_id}", ":start": f"{start:010d}#", ":end": f"{end:010d}#~"},
        index="gsi1",
    )


def count_ib_details(ib_id: int, table: Table | None = None) -> int:
    """How many details an IB has: a Select=COUNT Query (no item returned; its
    read units still grow with the details: their writers keep no counter yet)."""
    return (table or Table()).count("gsi1pk = :pk", {":pk": f"RBIB#{ib_id}"}, index="gsi1")


def aggregation_details_part(aggregation_id: int) -> listing.Part:
    """The Query of one commission record's details (gsi2, by trade and level)."""
    return listing.Part("gsi2pk = :pk", {":pk": f"RBAGG#{aggregation_id}"}, index="gsi2")


def list_aggregation_details(aggregation_id: int, table: Table | None = None) -> list[Item]:
    return list(stream_aggregation_details(aggregation_id, table=table))


def stream_aggregation_details(aggregation_id: int, table: Table | None = None) -> Iterator[Item]:
    """A commission record's details, page by page (exports)."""
    return (table or Table()).stream(
        "gsi2pk = :pk", {":pk": f"RBAGG#{aggregation_id}"}, index="gsi2", page_items=STREAM_PAGE_ITEMS
    )


def get_watermark(table: Table | None = None) -> int | None:
    found = get_watermark_state(table)
    return int(found["settled_until"]) if found else None


def get_watermark_state(table: Table | None = None) -> Item | None:
    return (table or Table()).get(STATE, "WATERMARK")


def _put_if(item: Item, condition: str, expression_values: Item, table: Table | None) -> bool:
    """Put the item if the condition holds; False if it did not."""
    try:
        (table or Table()).put(item, condition=condition, expression_values=expression_values)
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def move_watermark(expected: int | None, until: int, table: Table | None = None) -> bool:
    """Move the watermark forward, only from where this run found it."""
    return _put_if(
        {"pk": STATE, "sk": "WATERMARK", "settled_until": until, "basis": "recorded"},
        "attribute_not_exists(pk) OR settled_until = :expected",
        {":expected": expected if expected is not None else -1},
        table,
    )


def start_backlog(expected: int | None, since: int, until: int, table: Table | None = None) -> bool:
    """Hand (since, until] to a backlog flow: only from the watermark as found, and
    only if no backlog is under way (the same one asked again is fine)."""
    try:
        (table or Table()).update(
            STATE,
            "WATERMARK",
            "SET backlog_until = :until, settled_until = if_not_exists(settled_until, :since), basis = :recorded",
            {
                ":until": until,
                ":since": since,
                ":recorded": "recorded",
                ":expected": expected if expected is not None else -1,
            },
            condition="(attribute_not_exists(pk) OR settled_until = :expected)"
            " AND (attribute_not_exists(backlog_until) OR backlog_until = :until)",
        )
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def finish_backlog(since: int, until: int, table: Table | None = None) -> bool:
    """The backlog is settled: the watermark moves to its end, and hourly runs go on."""
    return _put_if(
        {"pk": STATE, "sk": "WATERMARK", "settled_until": until, "basis": "recorded"},
        "settled_until = :since AND backlog_until = :until",
        {":since": since, ":until": until},
        table,
    )


def get_partition(start: int, end: int, table: Table | None = None) -> int | None:
    found = (table or Table()).get(f"REBATE#PART#{start}-{end}", "CURSOR")
    return int(found["settled_until"]) if found else None


def move_partition(start: int, end: int, expected: int | None, until: int, table: Table | None = None) -> bool:
    """Move a backlog partition's own watermark forward, only from where it was found."""
    return _put_if(
        {"pk": f"REBATE#PART#{start}-{end}", "sk": "CURSOR", "settled_until": until},
        "attribute_not_exists(pk) OR settled_until = :expected",
        {":expected": expected if expected is not None else -1},
        table,
    )


def take_lock(owner: str, now: int, lease_seconds: int, table: Table | None = None) -> bool:
    try:
        (table or Table()).put(
            {"pk": STATE, "sk": "LOCK", "holder": owner, "expires_at": now + lease_seconds},
            condition="attribute_not_exists(pk) OR expires_at < :now",
            expression_values={":now": now},
        )
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def release_lock(owner: str, table: Table | None = None) -> None:
    try:
        (table or Table()).delete(STATE, "LOCK", condition="holder = :owner", expression_values={":owner": owner})
    except ClientError as error:
        if not is_condition_failure(error):
            raise


def put_run(run: Item, table: Table | None = None) -> None:
    (table or Table()).put(
        {
            **run,
            "pk": f"RBRUN#{run['id']}",
            "sk": "RUN",
            "gsi1pk": "RBRUNS",
            "gsi1sk": f"{int(run['at']):010d}#{run['id']}",
        }
    )


def list_runs(limit: int, table: Table | None = None) -> list[Item]:
    return (table or Table()).query("gsi1pk = :pk", {":pk": "RBRUNS"}, index="gsi1", forward=False)[:limit]
