"""Pages that cost their page.

A list that lives under several partitions — the months of a window, the
shards of a hot key — is read as one sequence by merging the partitions'
queries in key order, each fetched lazily a page at a time. Page `p` of size
`s` then reads at most `p * s` items plus one chunk per partition, however many
items the partitions hold."""

import heapq
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from fxcrm.dal.table import Item, Table


@dataclass(frozen=True)
class Part:
    """One Query: a key condition with its values, on the table or an index."""

    condition: str
    values: Item
    index: str | None = None
    names: dict[str, str] = field(default_factory=dict)


def items(table: Table, part: Part, newest_first: bool, chunk: int) -> Iterator[Item]:
    """The part's items in key order, one Query of at most `chunk` items at a
    time, fetched only as the caller consumes them."""
    start: dict[str, Any] | None = None
    while True:
        page, start = table.query_page(
            part.condition,
            part.values,
            index=part.index,
            forward=not newest_first,
            limit=chunk,
            start=start,
            names=part.names or None,
        )
        yield from page
        if start is None:
            return


def merged(
    table: Table, parts: Sequence[Part], order: Callable[[Item], Any], newest_first: bool = True, chunk: int = 50
) -> Iterator[Item]:
    """Every part's items as one sequence in `order`; each part must already
    be in that order (its sort key). Reads lazily."""
    streams = [items(table, part, newest_first, chunk) for part in parts]
    return heapq.merge(*streams, key=order, reverse=newest_first)


def page(
    table: Table,
    parts: Sequence[Part],
    number: int,
    size: int,
    order: Callable[[Item], Any],
    newest_first: bool = True,
) -> list[Item]:
    """Page `number` (from 1) of the merged parts: the reads stop at its last row."""
    chunk = max(1, min(number * size, 100)) if len(parts) == 1 else max(1, min(size, 100))
    return list(islice(merged(table, parts, order, newest_first, chunk), (number - 1) * size, number * size))
