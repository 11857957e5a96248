"""Record staff actions and security events in the append-only audit log."""

from datetime import UTC, datetime
from typing import Any

from fxcrm import ids
from fxcrm.auth.accounts import Principal
from fxcrm.dal import audit as dal


def record(
    actor: Principal,
    action: str,
    target: str,
    source_ip: str,
    now: int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """`target` names the object, e.g. `approval:123`; `now` is epoch seconds."""
    dal.append(
        {
            "id": ids.new_id(),
            "at": now,
            "actor_id": actor.user_id,
            "actor_email": actor.email,
            "actor_role": actor.role,
            "action": action,
            "target": target,
            "before": before or {},
            "after": after or {},
            "source_ip": source_ip,
        },
        datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d"),
    )
