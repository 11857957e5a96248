"""The seed's `all` in a filter's enum: every other value the enum lists.

The seed lists `all` first in each filter enum it offers (report statuses,
methods, trade types, the currencies' method) and means "no filter". Each
such enum is one `Literal` that includes "all"; `selected` turns the chosen
value into the set of values it lets through, so no route tests for "all"."""

from typing import Any, get_args

from pydantic import BaseModel

ALL = "all"


def values(choices: Any) -> frozenset[str]:
    """Every value of a Literal enum (or of an Optional one), without `all`."""
    found: set[str] = set()
    for arg in get_args(choices):
        if isinstance(arg, str):
            found.add(arg)
        elif get_args(arg):
            found |= values(arg)
    return frozenset(found - {ALL})


def selected(value: str | None, choices: Any) -> frozenset[str]:
    """What a filter lets through: `all` (or no value) selects every value of
    the enum, anything else just itself."""
    return values(choices) if value is None or value == ALL else frozenset({value})


def chosen(model: BaseModel, name: str) -> frozenset[str]:
    """`selected` for a model's field, by the enum its annotation declares."""
    return selected(getattr(model, name), type(model).model_fields[name].annotation)
