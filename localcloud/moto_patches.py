"""Make moto's DynamoDB behave like DynamoDB under concurrency.

DynamoDB applies every write, conditional check included, atomically; moto
5.2.5 does not: two concurrent `UpdateItem ... ADD` calls can read the same
old value, and a condition can pass for two writers. Our correctness rests on
those guarantees (counters, conditional puts, transactions), and the
concurrency tests must exercise our code, not moto's races, so every item
operation of moto's DynamoDB backend runs under one lock. Coarser than
DynamoDB's per-item isolation, which only makes it stricter.
"""

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
