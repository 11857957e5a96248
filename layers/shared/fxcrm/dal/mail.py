"""What outgoing mail reads and the suppression list it keeps.

SUPPRESS#<email> / MAIL    an address SES reported as a hard bounce or a complaint: no more
                           mail goes to it (`reason`, `detail`, `feedback_ids`, `first_at`,
                           `last_event_at`; `skipped`, `last_skipped_at`, `last_skipped_message`);
                           gsi1: MAILSUPPRESSED#<yyyy-mm of first_at> / <first_at>#<email>
"""

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal.table import Item, Table, is_condition_failure
from fxcrm.dal.users import user_key

BRANDING_KEY = ("SETTING#branding", "CURRENT")


def suppression_key(email: str) -> tuple[str, str]:
    return f"SUPPRESS#{email.lower()}", "MAIL"


@dataclass(frozen=True)
class SendingContext:
    branding: dict[str, Any] | None  # the stored value; None: the defaults
    suppression: Item | None
    user: Item | None


def sending_context(email: str, user_id: int | None, table: Table | None = None) -> SendingContext:
    """The branding, the address's suppression and the recipient's user item,
    in one BatchGetItem (eventually consistent, like the branding's own read)."""
    keys = [BRANDING_KEY, suppression_key(email)] + ([user_key(user_id)] if user_id is not None else [])
    found = {(item["pk"], item["sk"]): item for item in (table or Table()).batch_get(keys)}
    branding = found.get(BRANDING_KEY)
    return SendingContext(
        branding.get("value") if branding else None,
        found.get(suppression_key(email)),
        found.get(user_key(user_id)) if user_id is not None else None,
    )


def get_suppression(email: str, table: Table | None = None) -> Item | None:
    return (table or Table()).get(*suppression_key(email))


def suppress(
    email: str, reason: str, detail: dict[str, Any], feedback_id: str, at: int, table: Table | None = None
) -> Item:
    """Record (or refresh) an address's suppression. A notification SNS
    delivers twice changes nothing: its feedback id is a set member."""
    month = time.strftime("%Y-%m", time.gmtime(at))
    return (table or Table()).update(
        *suppression_key(email),
        "SET email = :email, reason = :reason, detail = :detail, last_event_at = :at,"
        " first_at = if_not_exists(first_at, :at),"
        " gsi1pk = if_not_exists(gsi1pk, :gsi1pk), gsi1sk = if_not_exists(gsi1sk, :gsi1sk)"
        " ADD feedback_ids :feedback",
        {
            ":email": email.lower(),
            ":reason": reason,
            ":detail": detail,
            ":at": at,
            ":gsi1pk": f"MAILSUPPRESSED#{month}",
            ":gsi1sk": f"{at}#{email.lower()}",
            ":feedback": {feedback_id},
        },
    )


def record_skip(email: str, message: str, at: int, table: Table | None = None) -> None:
    """Count a mail not sent because the address is suppressed (unless the
    suppression was lifted meanwhile: no item is made up here)."""
    try:
        (table or Table()).update(
            *suppression_key(email),
            "SET last_skipped_at = :at, last_skipped_message = :message ADD skipped :one",
            {":at": at, ":message": message, ":one": 1},
            condition="attribute_exists(pk)",
        )
    except ClientError as error:
        if not is_condition_failure(error):
            raise
