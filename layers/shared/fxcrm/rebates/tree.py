"""The IB tree at any moment. Each user keeps its current IB (`ib_id`) and a
history of changes (`IBHIST#<effective time>`, from → to), so the IB a user
had at time t is the current one with every later change undone."""

from typing import Any

from fxcrm.dal import users as users_dal
from fxcrm.rebates.rules import MAX_LEVELS


class Tree:
    """Reads each user once per settlement run."""

    def __init__(self) -> None:
        self._users: dict[int, dict[str, Any] | None] = {}
        self._history: dict[int, list[dict[str, Any]]] = {}

    def user(self, user_id: int) -> dict[str, Any] | None:
        if user_id not in self._users:
            self.prefetch({user_id})
        return self._users[user_id]

    def prefetch(self, user_ids: set[int]) -> None:
        """Read these users and everyone above them, 100 to a BatchGetItem per level."""
        wanted = {u for u in user_ids if u not in self._users}
        while wanted:
            found = {int(u["id"]): u for u in users_dal.get_users(sorted(wanted))}
            for user_id in wanted:
                self._users[user_id] = found.get(user_id)
            wanted = {
                int(u["ib_id"])
                for u in found.values()
                if u.get("ib_id") is not None and int(u["ib_id"]) not in self._users
            }

    def _history_of(self, user_id: int, user: dict[str, Any]) -> list[dict[str, Any]]:
        """Changes of the user's IB, oldest first (read only for users who were ever moved)."""
        if user_id not in self._history:
            moved = int(user.get("ib_moves", 0)) > 0
            self._history[user_id] = sorted(users_dal.ib_history(user_id), key=lambda h: int(h["at"])) if moved else []
        return self._history[user_id]

    def parent_at(self, user_id: int, at: int) -> int | None:
        user = self.user(user_id)
        if user is None:
            return None
        parent = int(user["ib_id"]) if user.get("ib_id") is not None else None
        for change in reversed(self._history_of(user_id, user)):
            if int(change["at"]) <= at:
                break
            parent = int(change["from_ib_id"]) if change.get("from_ib_id") is not None else None
        return parent

    def chain_at(self, user_id: int, at: int, depth: int = MAX_LEVELS) -> list[int]:
        """The IBs above a user at time t: level 1 (its own IB), level 2, ..."""
        chain: list[int] = []
        current = self.parent_at(user_id, at)
        while current is not None and len(chain) < depth and current not in chain and current != user_id:
            chain.append(current)
            current = self.parent_at(current, at)
        return chain
