"""Rebate rules, set by staff: symbol groups, an amount per lot or a share of
the commission per IB level and symbol group, a minimum holding time, what a
hedged trade earns, and each IB's payout timing.

Symbols are normalised before matching (`XAUUSD.m`, `EURUSDm`, `GBPUSD#` →
`XAUUSD`, `EURUSD`, `GBPUSD`); a symbol in no group is reported by the
settlement run, never silently skipped."""

import json
import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from fxcrm import audit
from fxcrm.core.caller import Principal
from fxcrm.core.errors import InvalidInput
from fxcrm.dal import settings_items

SETTING = "rebate_rules"
MAX_LEVELS = 10
_SUFFIX = re.compile(r"[.#_\-].*$")
_TRAILING_LOWER = re.compile(r"(?<=[A-Z0-9])[a-z]+$")


def normalise(symbol: str) -> str:
    """The broker's symbol without its account-type suffix, upper case."""
    base = _SUFFIX.sub("", symbol.strip())
    return _TRAILING_LOWER.sub("", base).upper()


class Rule(BaseModel):
    id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,40}$")
    level: int = Field(ge=1, le=MAX_LEVELS, description="1: the client's own IB; 2: that IB's IB; ...")
    symbol_group: str = Field(min_length=1, max_length=40)
    kind: Literal["per_lot", "commission_share"]
    amount: Decimal | None = Field(default=None, ge=0, le=10_000, description="per_lot: USD per lot")
    share: Decimal | None = Field(default=None, ge=0, le=1, description="commission_share: 0.3 = 30 %")

    @model_validator(mode="after")
    def has_its_rate(self) -> "Rule":
        if self.kind == "per_lot" and self.amount is None:
            raise ValueError(f"rule {self.id}: per_lot needs amount")
        if self.kind == "commission_share" and self.share is None:
            raise ValueError(f"rule {self.id}: commission_share needs share")
        return self

    def rate(self) -> Decimal:
        return self.amount if self.kind == "per_lot" else self.share  # type: ignore[return-value]


class RebateRules(BaseModel):
    currency: Literal["USD"] = "USD"
    symbol_groups: dict[str, list[str]] = Field(description="group → normalised symbols")
    rules: list[Rule]
    minimum_hold_seconds: int = Field(default=0, ge=0, le=7 * 86400, description="Shorter trades earn nothing")
    hedged: Literal["pay", "no_rebate"] = Field(
        default="no_rebate", description="A trade overlapping an opposite trade of the same symbol and account"
    )
    payout: Literal["instant", "approval"] = Field(default="instant", description="Every IB's default")
    payout_by_ib: dict[str, Literal["instant", "approval"]] = Field(default={}, description="IB user id → timing")

    @model_validator(mode="after")
    def consistent(self) -> "RebateRules":
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError("two rules share an id")
        seen: set[tuple[int, str]] = set()
        for rule in self.rules:
            if rule.symbol_group not in self.symbol_groups:
                raise ValueError(f"rule {rule.id}: no symbol group {rule.symbol_group!r}")
            if (rule.level, rule.symbol_group) in seen:
                raise ValueError(f"rule {rule.id}: level {rule.level} of {rule.symbol_group} has a rule already")
            seen.add((rule.level, rule.symbol_group))
        owners: dict[str, str] = {}
        for group, symbols in self.symbol_groups.items():
            for symbol in symbols:
                if normalise(symbol) != symbol:
                    raise ValueError(f"symbol {symbol!r} of {group}: write it normalised ({normalise(symbol)})")
                if owners.setdefault(symbol, group) != group:
                    raise ValueError(f"symbol {symbol} is in {owners[symbol]} and {group}")
        return self

    def group_of(self, symbol: str) -> str | None:
        wanted = normalise(symbol)
        return next((g for g, symbols in self.symbol_groups.items() if wanted in symbols), None)

    def rule_for(self, level: int, group: str) -> Rule | None:
        return next((r for r in self.rules if r.level == level and r.symbol_group == group), None)

    def deepest_level(self) -> int:
        return max((r.level for r in self.rules), default=0)

    def payout_for(self, ib_id: int) -> str:
        return self.payout_by_ib.get(str(ib_id), self.payout)


@cache
def default_rules() -> RebateRules:
    return RebateRules.model_validate(json.loads((Path(__file__).parent / "default_rules.json").read_text()))


def current() -> RebateRules:
    stored = settings_items.get_setting(SETTING)
    return RebateRules.model_validate(stored) if stored else default_rules()


def save(staff: Principal, body: dict[str, Any], source_ip: str, now: int) -> RebateRules:
    """Replace the rules (staff, audited). They apply to trades settled from now
    on; `recompute` shows what they would change in a settled period."""
    try:
        rules = RebateRules.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(first["msg"], ".".join(str(p) for p in first["loc"]) or "rules") from error
    before = current().model_dump(mode="json")
    settings_items.put_setting(SETTING, rules.model_dump(mode="json"), staff.user_id, now)
    audit.record(
        staff, "settings.rebate_rules", "setting:rebate_rules", source_ip, now, before, rules.model_dump(mode="json")
    )
    return rules
