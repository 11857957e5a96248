"""Captcha tickets already accepted.

CAPTCHA#<sha256 of app id and ticket> / USED   at, ttl (a day: longer than any ticket stays valid)
"""

from botocore.exceptions import ClientError

from fxcrm.dal.table import Table, is_condition_failure


def use_ticket(ticket_hash: str, now: int, keep_seconds: int, table: Table | None = None) -> bool:
    """Mark the ticket used, once: False if it was used before (even by a concurrent request)."""
    try:
        (table or Table()).put(
            {"pk": f"CAPTCHA#{ticket_hash}", "sk": "USED", "at": now, "ttl": now + keep_seconds},
            condition="attribute_not_exists(pk)",
        )
        return True
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
