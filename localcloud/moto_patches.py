"""Make moto's DynamoDB behave like DynamoDB under concurrency.

DynamoDB applies every write, conditional check included, atomically; moto
5.2.5 does not: two concurrent `UpdateItem ... ADD` calls can read the same
old value, and a condition can pass for two writers. Our correctness rests on
those guarantees (counters, conditional puts, transactions), and the
concurrency tests must exercise our code, not moto's races, so every item
operation of moto's DynamoDB backend runs under one lock. Coarser than
DynamoDB's per-item isolation, which only makes it stricter.
"""

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any

_lock = threading.RLock()
_OPERATIONS = ("put_item", "get_item", "query", "update_item", "delete_item", "transact_write_items", "scan")


def make_dynamodb_atomic() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for name in _OPERATIONS:
        original: Callable[..., Any] = getattr(DynamoDBBackend, name)
        if getattr(original, "_fxcrm_atomic", False):
            continue

        def locked(*args: Any, __original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            with _lock:
                return __original(*args, **kwargs)

        functools.update_wrapper(locked, original)
        locked._fxcrm_atomic = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, locked)
    _make_transactions_cheap()


class _TablesNotCopied:
    """`copy` as moto's DynamoDB models see it, except that a whole Table is
    not deep-copied: moto snapshots every table a transaction touches, which
    costs time in proportion to the table (170 ms per transaction once a test
    run has filled it). `_make_transactions_cheap` snapshots the touched items
    instead."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _make_transactions_cheap() -> None:
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend

    original: Callable[..., Any] = DynamoDBBackend.transact_write_items
    if getattr(original, "_fxcrm_cheap", False):
        return
    models.copy = _TablesNotCopied()  # type: ignore[assignment,attr-defined]

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        with _lock:
            before = [_snapshot(backend, entry) for entry in transact_items]
            try:
                original(backend, transact_items)
            except Exception:
                # moto's own rollback now restores the same table objects, so
                # put the touched items back as they were, last first.
                for snapshot in reversed(before):
                    if snapshot is not None:
                        _restore(backend, *snapshot)
                raise

    transact_write_items._fxcrm_cheap = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]


def _snapshot(backend: Any, entry: dict[str, Any]) -> tuple[str, dict[str, Any], Any] | None:
    op_type, op = next(iter(entry.items()))
    table_name = op.get("TableName")
    if table_name not in backend.tables:
        return None
    table = backend.tables[table_name]
    if op_type == "Put":
        key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = op["Item"][table.range_key_attr]
    else:
        key = op.get("Key", {})
    try:
        current = backend.get_item(table_name, key)
    except Exception:  # a malformed key: moto's own validation reports it
        return None
    return table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None


def _restore(backend: Any, table_name: str, key: dict[str, Any], attributes: dict[str, Any] | None) -> None:
    table = backend.tables[table_name]
    hash_value = key[table.hash_key_attr]
    range_value = key.get(table.range_key_attr) if table.range_key_attr else None
    if attributes is None:
        if backend.get_item(table_name, key) is not None:
            table.delete_item(
                models_dynamo_type(hash_value), models_dynamo_type(range_value) if range_value is not None else None
            )
    else:
        table.put_item(attributes)


def models_dynamo_type(raw: dict[str, Any]) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return DynamoType(raw)
