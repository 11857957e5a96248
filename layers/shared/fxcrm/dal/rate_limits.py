"""Attempt counters: the one gate in front of every secret check and every
per-address allowance.

RATE#<name>#<subject>#<window> / RATE   a fixed-window counter with a TTL past its window
RATE#<name>#<subject> / RATE            a counter that lives until a given time (one email code)

A unit is taken with a conditional update (`hits < limit`) *before* the
caller checks anything, so N concurrent requests can never get more than
`limit` units, whatever they do afterwards.
"""

from botocore.exceptions import ClientError

from fxcrm.dal.table import Table, is_condition_failure


def _take(pk: str, limit: int, ttl: int, table: Table | None) -> str | None:
    try:
        (table or Table()).update(
            pk,
            "RATE",
            "ADD hits :one SET #ttl = if_not_exists(#ttl, :ttl)",
            {":one": 1, ":limit": limit, ":ttl": ttl},
            condition="attribute_not_exists(hits) OR hits < :limit",
            names={"#ttl": "ttl"},
        )
        return pk
    except ClientError as error:
        if is_condition_failure(error):
            return None
        raise


def take(name: str, subject: str, limit: int, window_seconds: int, now: int, table: Table | None = None) -> str | None:
    """Take one unit from the window's allowance: the counter's key, or None when it is spent."""
    window = now // window_seconds
    return _take(f"RATE#{name}#{subject}#{window}", limit, (window + 2) * window_seconds, table)


def take_until(name: str, subject: str, limit: int, expires_at: int, table: Table | None = None) -> str | None:
    """Take one unit from a counter that lives until `expires_at` (not windowed)."""
    return _take(f"RATE#{name}#{subject}", limit, expires_at, table)


def give_back(key: str, table: Table | None = None) -> None:
    """Return one unit taken from the counter `key` (by `take`): a success frees only
    its own attempt, so concurrent failures still count against the limit."""
    try:
        (table or Table()).update(
            key,
            "RATE",
            "ADD hits :minus",
            {":minus": -1, ":zero": 0},
            condition="attribute_exists(hits) AND hits > :zero",
        )
    except ClientError as error:
        if not is_condition_failure(error):  # the counter expired meanwhile: nothing to give back
            raise


def seconds_left(window_seconds: int, now: int) -> int:
    """Until the current window ends (a spent allowance's Retry-After)."""
    return window_seconds - now % window_seconds
