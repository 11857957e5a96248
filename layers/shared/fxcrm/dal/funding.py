"""Funding items: channels, payment accounts and orders (deposits, withdrawals, transfers).

CHANNEL#<deposit|withdrawal> / <id>    a channel (method, limits, fee rule, countries, currencies)
USER#<user id> / PAYACCT#<id>          a payment (receiving) account of the user
USER#<user id> / PAYDEFAULT#<method>   which of the user's accounts is the default for a method
ORDER#<order number> / ORDER           an order; gsi1: USERORDERS#<user id>#<kind> / <created_at>#<order number>
                                       (the user's history); gsi2: ORDERS#<kind>#<yyyy-mm> / <created_at>#<order
                                       number> (every order of a kind by month, for staff reports)
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal.errors import ConditionFailed
from fxcrm.dal.models.orders import Order, OrderChange, order_from_item
from fxcrm.dal.table import STREAM_PAGE_ITEMS, Item, Table, is_condition_failure, to_ddb


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
    """The stored form of an order, with its index keys."""
    created = order.created_at
    month = datetime.fromtimestamp(created, UTC).strftime("%Y-%m")
    sort_key = f"{created:010d}#{order.order_number}"
    return {
        **order.to_item(),
        "pk": f"ORDER#{order.order_number}",
        "sk": "ORDER",
        "gsi1pk": f"USERORDERS#{order.user_id}#{order.kind}",
        "gsi1sk": sort_key,
        "gsi2pk": f"ORDERS#{order.kind}#{month}",
        "gsi2sk": sort_key,
    }


def put_new_order_request(order: Order, table: Table | None = None) -> dict[str, Any]:
    """The order as one Put of a TransactWriteItems (written with a ledger transaction)."""
    table = table or Table()
    return {
        "Put": {
            "TableName": table.name,
            "Item": to_ddb(order_item(order)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def create_order(order: Order, table: Table | None = None) -> None:
    (table or Table()).put(order_item(order), condition="attribute_not_exists(pk)")


def get_order(order_number: str, table: Table | None = None) -> Order | None:
    item = (table or Table()).get(f"ORDER#{order_number}", "ORDER")
    return None if item is None else order_from_item(item)


def update_order(
    order_number: str, fields: OrderChange, allowed_from: tuple[str, ...], table: Table | None = None
) -> Order:
    """Set fields only while the order is in one of `allowed_from` statuses; the order as it is now."""
    names = {f"#f{i}": name for i, name in enumerate(fields)} | {"#status": "status"}
    expression_values: Item = {f":f{i}": value for i, value in enumerate(fields.values())}
    allowed = {f":from{i}": status for i, status in enumerate(allowed_from)}
    try:
        item = (table or Table()).update(
            f"ORDER#{order_number}",
            "ORDER",
            "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
            expression_values | allowed,
            condition=f"#status IN ({', '.join(allowed)})",
            names=names,
        )
    except ClientError as error:
        if is_condition_failure(error):
            raise StatusChanged(order_number) from error
        raise
    return order_from_item(item)


def list_user_orders(user_id: int, kind: str, start: int, end: int, table: Table | None = None) -> list[Item]:
    """The user's orders of a kind created in [start, end], newest first."""
    return list(stream_user_orders(user_id, kind, start, end, table=table))


def stream_user_orders(user_id: int, kind: str, start: int, end: int, table: Table | None = None) -> Iterator[Item]:
    """As `list_user_orders`, page by page (exports)."""
    return (table or Table()).stream(
        "gsi1pk = :pk AND gsi1sk BETWEEN :start AND :end",
        {":pk": f"USERORDERS#{user_id}#{kind}", ":start": f"{start:010d}#", ":end": f"{end:010d}#~"},
        index="gsi1",
        forward=False,
        page_items=STREAM_PAGE_ITEMS,
    )


def list_month_orders(kind: str, month: str, start: int, end: int, table: Table | None = None) -> list[Item]:
    """Every order of a kind created in a month (yyyy-mm), within [start, end], newest first."""
    return list(stream_month_orders(kind, month, start, end, table=table))


def stream_month_orders(kind: str, month: str, start: int, end: int, table: Table | None = None) -> Iterator[Item]:
    """As `list_month_orders`, page by page (exports)."""
    return (table or Table()).stream(
        "gsi2pk = :pk AND gsi2sk BETWEEN :start AND :end",
        {":pk": f"ORDERS#{kind}#{month}", ":start": f"{start:010d}#", ":end": f"{end:010d}#~"},
        index="gsi2",
        forward=False,
        page_items=STREAM_PAGE_ITEMS,
    )
