"""What every stored model shares."""

from typing import Any

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    """A stored model: frozen (a change is a new value or a conditional
    write), and refusing attributes it does not name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_item(self) -> dict[str, Any]:
        """The stored attributes (keys and index keys are the DAL module's);
        unset optional fields are left out, as they always were."""
        return self.model_dump(exclude_none=True)


def is_key(name: str) -> bool:
    """The table's own attributes (keys and index keys), not the model's."""
    return name in ("pk", "sk") or (name.startswith("gsi") and name.endswith(("pk", "sk")))


def without_keys(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not is_key(k)}
