"""Fixed-window counters.

RATE#<name>#<subject>#<window> / RATE   a counter with a TTL past its window
"""

from botocore.exceptions import ClientError

from fxcrm.dal.table import Table, is_condition_failure


def take(name: str, subject: str, limit: int, window_seconds: int, now: int, table: Table | None = None) -> bool:
    """Take one unit from the window's allowance; False when it is spent."""
    window = now // window_seconds
    try:
        (table or Table()).update(
            f"RATE#{name}#{subject}#{window}",
            "RATE",
            "ADD hits :one SET #ttl = if_not_exists(#ttl, :ttl)",
            {":one": 1, ":limit": limit, ":ttl": (window + 2) * window_seconds},
            condition="attribute_not_exists(hits) OR hits < :limit",
            names={"#ttl": "ttl"},
        )
        return True
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise


def used(name: str, subject: str, window_seconds: int, now: int, table: Table | None = None) -> int:
    """How much of the window's allowance is spent."""
    found = (table or Table()).get(f"RATE#{name}#{subject}#{now // window_seconds}", "RATE")
    return int(found["hits"]) if found else 0
