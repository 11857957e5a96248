"""Paging of lists the API answers as `{list, total}`: pages count from 1."""

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def page_of(rows: Sequence[T], page: int, size: int) -> list[T]:
    """The rows of page `page` when each page holds `size` rows."""
    return list(rows[(page - 1) * size : page * size])
