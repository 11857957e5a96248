"""The one `{list, total}` answer of every paged list: `Page[Row]`.

`list` is one page of rows and `total` the count over every page (the seed's
shape). A list's schema is a named subclass, `class DepositList(Page[DepositRow]): ...`,
so its OpenAPI name stays the one generated clients already call it by
(a bare `Page[DepositRow]` would publish `Page_DepositRow_`)."""

from typing import Any, Generic, TypeVar, get_args

from pydantic import BaseModel

Row = TypeVar("Row")


class Page(BaseModel, Generic[Row]):
    list: list[Row]
    total: int


def row_of(page: type[BaseModel]) -> Any:
    """The row type of a page model (`DepositList` -> `DepositRow`)."""
    return get_args(page.model_fields["list"].annotation)[0]
