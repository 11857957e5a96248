"""Pages that cost their page.

A list that lives under several partitions — the months of a window, the
shards of a hot key — is read as one sequence by merging the partitions'
queries in key order, each fetched lazily a page at a time. Page `p` of size
`s` then reads at most `p * s` items plus one chunk per partition, however many
items the partitions hold."""

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
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
    # Only where a key cannot narrow further and what it drops is a small share (docs/data-model.md).
    where: str | None = None

    def count(self, table: Table) -> int:
        return table.count(self.condition, self.values, index=self.index, names=self.names or None, where=self.where)


def items(
    table: Table, part: Part, newest_first: bool, chunk: int, grow: bool = False, upto: int | None = None
) -> Iterator[Item]:
    """The part's items in key order, one Query of at most `chunk` items at a
    time, fetched only as the caller consumes them; with `grow`, each Query
    asks for twice the last (up to 100), so a part the caller reads deeply
    costs few calls while one it barely touches costs one small Query. With
    `upto`, no Query asks for more than the items still wanted."""
    start: dict[str, Any] | None = None
    while True:
        if upto is not None:
            chunk = max(1, min(chunk, upto))
        page, start = table.query_page(
            part.condition,
            part.values,
            index=part.index,
            forward=not newest_first,
            limit=chunk,
            start=start,
            names=part.names or None,
            where=part.where,
        )
        yield from page
        if start is None or (upto is not None and (upto := upto - len(page)) <= 0):
            return
        if grow:
            chunk = min(100, chunk * 2)


def merged(
    table: Table,
    parts: Sequence[Part],
    order: Callable[[Item], Any],
    newest_first: bool = True,
    chunk: int = 50,
    grow: bool = False,
) -> Iterator[Item]:
    """Every part's items as one sequence in `order`; each part must already
    be in that order (its sort key). Reads lazily. An item met twice (it
    moved from one part to another while they were read) is given once."""
    streams = [items(table, part, newest_first, chunk, grow) for part in parts]
    return _once(heapq.merge(*streams, key=order, reverse=newest_first))


def _once(stream: Iterator[Item]) -> Iterator[Item]:
    last: tuple[Any, Any] | None = None
    for item in stream:
        key = (item.get("pk"), item.get("sk"))
        if key != last or key == (None, None):
            yield item
        last = key


def page(
    table: Table,
    parts: Sequence[Part],
    number: int,
    size: int,
    order: Callable[[Item], Any],
    newest_first: bool = True,
) -> list[Item]:
    """Page `number` (from 1) of the merged parts: the reads stop at its last row."""
    if len(parts) == 1:  # one Query after another, none reading past the page
        stream = items(table, parts[0], newest_first, min(number * size, 100), upto=number * size)
        return list(islice(stream, (number - 1) * size, number * size))
    chunk = max(1, min(size, 100))
    return list(islice(merged(table, parts, order, newest_first, chunk), (number - 1) * size, number * size))


@dataclass(frozen=True)
class Group:
    """Parts whose items all come before the next group's in the list's order
    (the months of a window, newest first), with how many items the group
    holds when a counter knows it."""

    parts: Sequence[Part]
    count: int | None = None


def grouped_page(
    table: Table,
    groups: Iterable[Group],
    number: int,
    size: int,
    order: Callable[[Item], Any],
    newest_first: bool = True,
) -> list[Item]:
    """Page `number` of groups that follow one another. A counted group that
    lies wholly before the page is skipped unread (a deep page reads only the
    month it falls in); the rest merge their parts lazily, each part starting
    with a small Query and growing as it is read."""
    skip = (number - 1) * size
    found: list[Item] = []
    for group in groups:
        if group.count is not None and skip >= group.count:
            skip -= group.count
            continue
        if not group.parts:
            continue
        need = skip + size - len(found)
        if len(group.parts) == 1:
            stream = items(table, group.parts[0], newest_first, min(need, 100), upto=need)
        else:
            chunk = max(2, min(size, -(-size // len(group.parts)) + 1))
            stream = merged(table, group.parts, order, newest_first, chunk, grow=True)
        for item in stream:
            if skip:
                skip -= 1
                continue
            found.append(item)
            if len(found) == size:
                return found
    return found
