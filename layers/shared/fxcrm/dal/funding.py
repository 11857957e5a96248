"""Funding items: channels, payment accounts and orders (deposits, withdrawals, transfers).

CHANNEL#<deposit|withdrawal> / <id>    a channel (method, limits, fee rule, countries, currencies)
USER#<user id> / PAYACCT#<id>          a payment (receiving) account of the user
USER#<user id> / PAYDEFAULT#<method>   which of the user's accounts is the default for a method
ORDER#<order number> / ORDER           an order; its index keys and counts: fxcrm.dal.order_lists
"""

import heapq
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal import listing, order_lists
from fxcrm.dal.errors import ConditionFailed
from fxcrm.dal.models.orders import Order, OrderChange, order_from_item
from fxcrm.dal.table import Item, Table, is_condition_failure, transact


class StatusChanged(ConditionFailed):
    pass


# ---------------------------------------------------------------- channels


def channel_item(direction: str, channel: Item) -> Item:
    return {**channel, "pk": f"CHANNEL#{direction}", "sk": f"{int(channel['id']):06d}"}


def put_channel(direction: str, channel: Item, table: Table | None = None) -> None:
    (table or Table()).put(channel_item(direction, channel))


def list_channels(direction: str, table: Table | None = None) -> list[Item]:
    return (table or Table()).query("pk = :pk", {":pk": f"CHANNEL#{direction}"})


def get_channel(direction: str, channel_id: int, table: Table | None = None) -> Item | None:
    return (table or Table()).get(f"CHANNEL#{direction}", f"{channel_id:06d}", consistent=False)


# ---------------------------------------------------------------- payment accounts


def put_payment_account(user_id: int, account: Item, table: Table | None = None) -> None:
    (table or Table()).put({**account, "pk": f"USER#{user_id}", "sk": f"PAYACCT#{account['id']}"})


def get_payment_account(user_id: int, account_id: int, table: Table | None = None) -> Item | None:
    return (table or Table()).get(f"USER#{user_id}", f"PAYACCT#{account_id}")


def list_payment_items(user_id: int, table: Table | None = None) -> list[Item]:
    """The user's payment accounts and default pointers in one query (both start with PAY)."""
    return (table or Table()).query(
        "pk = :pk AND begins_with(sk, :prefix)", {":pk": f"USER#{user_id}", ":prefix": "PAY"}
    )


def set_default(user_id: int, method: str, account_id: int | None, table: Table | None = None) -> None:
    table = table or Table()
    if account_id is None:
        table.delete(f"USER#{user_id}", f"PAYDEFAULT#{method}")
    else:
        table.put({"pk": f"USER#{user_id}", "sk": f"PAYDEFAULT#{method}", "account_id": account_id})


def clear_default_if(user_id: int, method: str, account_id: int, table: Table | None = None) -> None:
    """Unset the default only if it still points at this account."""
    try:
        (table or Table()).delete(
            f"USER#{user_id}",
            f"PAYDEFAULT#{method}",
            condition="account_id = :id",
            expression_values={":id": account_id},
        )
    except ClientError as error:
        if not is_condition_failure(error):
            raise


# ---------------------------------------------------------------- orders


def order_item(order: Order) -> Item:
    """The stored form of an order, with its index keys (fxcrm.dal.order_lists)."""
    stored = order.to_item()
    return {**stored, "pk": f"ORDER#{order.order_number}", "sk": "ORDER", **order_lists.index_keys(stored)}


def new_order_requests(order: Order, table: Table | None = None) -> list[dict[str, Any]]:
    """The order (new) and its counts as TransactWriteItems entries (written with a ledger transaction)."""
    return order_lists.new_order_entries(order.to_item(), table or Table())


def create_order(order: Order, table: Table | None = None) -> None:
    table = table or Table()
    transact(table.client, new_order_requests(order, table))


def get_order(order_number: str, table: Table | None = None) -> Order | None:
    item = (table or Table()).get(f"ORDER#{order_number}", "ORDER")
    return None if item is None else order_from_item(item)


def update_order(
    order_number: str, fields: OrderChange, allowed_from: tuple[str, ...], table: Table | None = None
) -> Order:
    """Set fields only while the order is in one of `allowed_from` statuses; the
    order as it is now. A new status moves the order's index keys and counts
    with it, in one transaction conditioned on the status it was read in."""
    table = table or Table()
    names = {f"#f{i}": name for i, name in enumerate(fields)} | {"#status": "status"}
    expression_values: Item = {f":f{i}": value for i, value in enumerate(fields.values())}
    expression = "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields)))
    if "status" in fields:
        for _ in range(3):  # the status read may move on before the write: read again
            current = table.get(f"ORDER#{order_number}", "ORDER")  # as stored: with its keys
            if current is None or current["status"] not in allowed_from:
                raise StatusChanged(order_number)
            if current["status"] == fields["status"]:
                break  # the same status: the keys and counts stay
            try:
                moved = order_lists.move_status(table, current, dict(fields), expression, names, expression_values)
                return order_from_item(moved)
            except ClientError as error:
                if not is_condition_failure(error):
                    raise
        else:
            raise StatusChanged(order_number)
    allowed = {f":from{i}": status for i, status in enumerate(allowed_from)}
    try:
        item = table.update(
            f"ORDER#{order_number}",
            "ORDER",
            expression,
            expression_values | allowed,
            condition=f"#status IN ({', '.join(allowed)})",
            names=names,
        )
    except ClientError as error:
        if is_condition_failure(error):
            raise StatusChanged(order_number) from error
        raise
    return order_from_item(item)


def latest_user_orders(user_id: int, kind: str, count: int, table: Table | None = None) -> list[Item]:
    """The user's newest `count` orders of a kind (the back office's detail): a page, not the history."""
    parts = order_lists.user_parts(user_id, kind, order_lists.STATUSES, 0, 2**31 - 1)
    return listing.page(table or Table(), parts, 1, count, order_lists.order_key)


def orders_in_status(
    user_id: int, kind: str, status: str, before: int, count: int, table: Table | None = None
) -> list[Item]:
    """The user's newest `count` orders of a kind in one status created up to
    `before`: one Query of that status's range (the first-deposit rule asks for two)."""
    parts = order_lists.user_parts(user_id, kind, (status,), 0, before)
    return listing.page(table or Table(), parts, 1, count, order_lists.order_key)


def list_user_orders(user_id: int, kind: str, start: int, end: int, table: Table | None = None) -> list[Item]:
    """Every order of the user's of a kind created in [start, end], newest
    first: the status ranges merged (an unbounded read; lists use order_lists)."""
    parts = order_lists.user_parts(user_id, kind, order_lists.STATUSES, start, end)
    return list(listing.merged(table or Table(), parts, order_lists.order_key))


def users_orders(
    user_ids: list[int],
    kind: str,
    statuses: frozenset[str],
    start: int,
    end: int,
    now: int,
    methods: frozenset[str] | None = None,
) -> Iterator[Item]:
    """Several users' orders of a kind in some statuses (an IB's downline),
    newest first, each user's read lazily and merged."""
    lists = [iter(order_lists.UserList(u, kind, statuses, start, end, now, methods)) for u in user_ids]
    return heapq.merge(*lists, key=order_lists.order_key, reverse=True)
