"""Record staff actions and security events in the append-only audit log."""

from datetime import UTC, datetime
from typing import Any

from fxcrm.core import ids
from fxcrm.core.caller import Principal
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


def security_event(
    user: dict[str, Any], action: str, source_ip: str, now: int, detail: dict[str, Any] | None = None
) -> None:
    """A login, a second factor, a refusal: recorded with the user as the actor."""
    dal.append(
        {
            "id": ids.new_id(),
            "at": now,
            "actor_id": int(user["id"]),
            "actor_email": user["email"],
            "actor_role": user.get("role", ""),
            "action": action,
            "target": f"user:{user['id']}",
            "before": {},
            "after": detail or {},
            "source_ip": source_ip,
        },
        datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d"),
    )
