"""Pydantic types every wire model uses: `Strict` request bodies and `Int`
numbers (free text is `fxcrm.core.text.FreeText`)."""

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


class Strict(BaseModel):
    """Request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", regex_engine="python-re")


def _not_bool(value: Any) -> Any:
    # Pydantic's lax mode reads true/false as 1/0; a client sending a boolean has a bug.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


Int = Annotated[int, BeforeValidator(_not_bool)]
