"""Make moto's DynamoDB behave like DynamoDB under concurrency.

DynamoDB applies every write, conditional check included, atomically; moto
5.2.5 (MOTO_VERSION, the version these patches were written against and the
only one they run on) does not: two concurrent `UpdateItem ... ADD` calls can read the same
old value, and a condition can pass for two writers. Our correctness rests on
those guarantees (counters, conditional puts, transactions), and the
concurrency tests must exercise our code, not moto's races, so every item
operation of moto's DynamoDB backend runs under one lock. Coarser than
DynamoDB's per-item isolation, which only makes it stricter.

The patches replace moto internals, which change between releases without
notice: they refuse to run on another moto version, and read the arguments of
what they wrap by name (inspect.signature), not by position.
"""

import copy
import functools
import importlib.metadata
import inspect
import threading
from collections.abc import Callable
from typing import Any

MOTO_VERSION = "5.2.5"  # requirements-dev.txt pins the same
_lock = threading.RLock()
_OPERATIONS = ("put_item", "get_item", "query", "update_item", "delete_item", "transact_write_items", "scan")


class MotoVersionError(RuntimeError):
    """The installed moto is not the one the patches were written for."""


def check_moto_version(found: str | None = None) -> None:
    """Refuse a moto other than MOTO_VERSION: its internals may have moved under
    the patches, which would then fail silently (or race) instead of loudly."""
    found = found if found is not None else importlib.metadata.version("moto")
    if found != MOTO_VERSION:
        raise MotoVersionError(
            f"localcloud.moto_patches was written for moto {MOTO_VERSION}, found moto {found}: "
            "check each patch against the new moto's code, then update MOTO_VERSION and the pin"
        )


def signature_of(function: Callable[..., Any], *names: str) -> inspect.Signature:
    """The signature of a moto method, which must still take the named arguments."""
    signature = inspect.signature(function)
    missing = [name for name in names if name not in signature.parameters]
    if missing:
        raise MotoVersionError(f"moto's {function.__qualname__} no longer takes {', '.join(missing)}")
    return signature


def make_dynamodb_atomic() -> None:
    check_moto_version()
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import Item

    for name in _OPERATIONS:
        original: Callable[..., Any] = getattr(DynamoDBBackend, name)
        if getattr(original, "_fxcrm_atomic", False):
            continue

        def locked(*args: Any, __original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            with _lock:
                result = __original(*args, **kwargs)
                # moto answers with the live item and serialises it after the call, when
                # another writer may have changed it: answer with the item as it was here.
                return copy.deepcopy(result) if isinstance(result, Item) else result

        functools.update_wrapper(locked, original)
        locked._fxcrm_atomic = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, locked)
    _make_transactions_cheap()
    _make_queries_cheap()
    _make_items_cheap()


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
    signature = signature_of(original, "transact_items")
    models.copy = _TablesNotCopied()  # type: ignore[assignment,attr-defined]

    def transact_write_items(backend: Any, *args: Any, **kwargs: Any) -> None:
        transact_items: list[dict[str, Any]] = signature.bind(backend, *args, **kwargs).arguments["transact_items"]
        with _lock:
            before = [_snapshot(backend, entry) for entry in transact_items]
            try:
                original(backend, *args, **kwargs)
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


_query_scope = threading.local()
_ANY = object()


def _make_queries_cheap() -> None:
    """moto 5.2.5 answers every Query by sorting every item of the table (with
    its slow DynamoType comparisons) and then filtering: a Query costs time in
    proportion to the whole table, 0.4 s per call once it holds 100,000 items.
    During a Query, `all_items` here hands over only the queried partition (a
    table query) or the items unsorted (an index query, which moto sorts after
    filtering). Results and their order are moto's own."""
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_fxcrm_cheap", False):
        return
    original_query: Callable[..., Any] = Table.query
    original_all_items: Callable[..., Any] = Table.all_items
    signature = signature_of(original_query, "hash_key", "index_name")

    def all_items(table: Any) -> list[Any]:
        partition = getattr(_query_scope, "partition", None)
        if partition is None:
            return list(original_all_items(table))
        if isinstance(partition, tuple):
            attribute, kind, value = partition
            return [
                item
                for item in _every_item(table, table.items.values())
                if (found := item.attrs.get(attribute)) is not None and found.type == kind and found.value == value
            ]
        sets = table.items.values() if partition is _ANY else [table.items.get(partition, {})]
        return _every_item(table, sets)

    def query(table: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(table, *args, **kwargs).arguments
        hash_key, index_name = arguments.get("hash_key"), arguments.get("index_name")
        if index_name and hash_key is not None:
            # only the items whose index hash attribute holds the value (compared
            # as plain values; moto then checks them its own way)
            index = next((i for i in table.all_indexes() if i.name == index_name), None)
            attribute = (
                next((k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"), None) if index else None
            )
            _query_scope.partition = (attribute, hash_key.type, hash_key.value) if attribute else _ANY
        else:
            _query_scope.partition = _ANY if index_name or hash_key is None else hash_key
        try:
            return original_query(table, *args, **kwargs)
        finally:
            _query_scope.partition = None

    query._fxcrm_cheap = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign,assignment]
    Table.all_items = all_items  # type: ignore[method-assign,assignment]


def _every_item(table: Any, sets: Any) -> list[Any]:
    if table.range_key_attr:
        return [item for hash_set in sets for item in hash_set.values()]
    return [hash_set for hash_set in sets if hash_set]


def _make_items_cheap() -> None:
    """moto 5.2.5 checks the 400 KB item limit by summing the sizes of every
    attribute each time one is set, so building an item costs time in the
    square of its width (3 ms for a 35-attribute item). Keep a running total."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    if getattr(LimitedSizeDict.__setitem__, "_fxcrm_cheap", False):
        return

    def size_of(key: str, value: Any) -> int:
        return int(bytesize(key)) + int(value.size() if type(value) is DynamoType else bytesize(str(value)))

    def setitem(self: Any, key: str, value: Any) -> None:
        sizes = self.__dict__.setdefault("_sizes", {})
        if len(sizes) != len(self):  # filled by update() or changed behind our back: count afresh
            sizes.clear()
            sizes.update({k: size_of(k, v) for k, v in self.items()})
        new = size_of(key, value)
        if sum(sizes.values()) - sizes.get(key, 0) + new > 405000:
            raise ItemSizeTooLarge
        dict.__setitem__(self, key, value)
        sizes[key] = new

    setitem._fxcrm_cheap = True  # type: ignore[attr-defined]
    LimitedSizeDict.__setitem__ = setitem  # type: ignore[method-assign,assignment]
